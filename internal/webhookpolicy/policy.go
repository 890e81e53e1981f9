package webhookpolicy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

// Operations on one project's policy.
const (
	OpCreate = "create"
	OpAdopt  = "adopt"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Description is the description harborport writes into its policies.
const Description = "Managed by Terraform (harborport_webhook): sends registry events to the harborport listener."

// TypeHTTP is the only target type harborport writes.
const TypeHTTP = "http"

// Op is one piece of pending work on one project's policy. ProjectID
// addresses the project in API paths: the client reads an all-digit project
// name as an id, and Harbor allows such names. The JSON form is what
// harborport_webhook keeps in private state between plan and apply.
type Op struct {
	Project   string   `json:"p"`
	ProjectID int64    `json:"pid"`
	Op        string   `json:"o"`           // create | update | adopt | delete
	ID        int64    `json:"i,omitempty"` // the policy (update, adopt, delete)
	Fields    []string `json:"f,omitempty"` // what differs (update, adopt)
	// Before fingerprints the policy as the survey read it (update, adopt,
	// delete; see Fingerprint): Execute writes only over that policy, so an
	// edit made in Harbor since the plan is not overwritten blindly (the same
	// conditional rule as harborport_sync's).
	Before string `json:"b,omitempty"`
}

// Summary is the op as the plan's `pending` map shows it.
func (o Op) Summary() string {
	switch {
	case o.Op == OpUpdate:
		return "update: " + strings.Join(o.Fields, ", ")
	case o.Op == OpAdopt && len(o.Fields) > 0:
		return "adopt, update: " + strings.Join(o.Fields, ", ")
	}
	return o.Op
}

func (o Op) ref() string { return strconv.FormatInt(o.ProjectID, 10) }

// MoreKey holds, in a bounded Preview, the count of work beyond it; project
// names cannot contain it.
const MoreKey = "…"

// Preview renders ops (sorted by project) as project → summary, with at
// most limit entries: the last one is MoreKey → "<n> more" when ops has more.
func Preview(ops []Op, limit int) map[string]string {
	out := make(map[string]string, min(len(ops), limit))
	for i, o := range ops {
		if i == limit-1 && len(ops) > limit {
			out[MoreKey] = fmt.Sprintf("%d more", len(ops)-i)
			break
		}
		out[o.Project] = o.Summary()
	}
	return out
}

// DecodeOps reads operations stored as JSON (by an earlier survey).
func DecodeOps(raw []byte) ([]Op, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var ops []Op
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, fmt.Errorf("the pending webhook work stored by the last refresh is unreadable (%v); run terraform plan again", err)
	}
	for _, o := range ops {
		if o.ProjectID <= 0 || o.Project == "" {
			return nil, fmt.Errorf("the pending webhook work stored by the last refresh lacks project ids (written by an older harborport); run terraform plan again")
		}
	}
	return ops, nil
}

// NormalizeEndpoint is the address as Harbor stores it: trimmed, without a
// trailing '/', rebuilt as scheme://host + path (internal/harbor/API-NOTES.md
// "Webhook policies").
func NormalizeEndpoint(raw string) string {
	s := strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Differences names the fields in which a policy in Harbor differs from the
// wanted one, in harborport_webhook's attribute names. Harbor returns
// auth_header verbatim in GET and list (handler/model/webhook_policy.go;
// internal/harbor/testdata/real-api-webhook-policy-get.json), so the secret is
// compared, but only ever named. want's event types are sorted and its one
// target's address normalised (NormalizeEndpoint).
func Differences(have, want harbor.WebhookPolicy) []string {
	var out []string
	if len(have.Targets) != 1 {
		out = append(out, "targets")
	} else {
		ht, wt := have.Targets[0], want.Targets[0]
		if ht.Type != wt.Type || NormalizeEndpoint(ht.Address) != wt.Address {
			out = append(out, "endpoint")
		}
		if ht.AuthHeader != wt.AuthHeader {
			out = append(out, "secret")
		}
		// Harbor stores an empty http format as "Default"
		// (internal/harbor/API-NOTES.md "Webhook policies").
		if pf := ht.PayloadFormat; pf != wt.PayloadFormat && (pf != "" || wt.PayloadFormat != "Default") {
			out = append(out, "payload_format")
		}
		if ht.SkipCertVerify != wt.SkipCertVerify {
			out = append(out, "skip_cert_verify")
		}
	}
	if have.Enabled != want.Enabled {
		out = append(out, "enabled")
	}
	he := slices.Clone(have.EventTypes)
	slices.Sort(he)
	if !slices.Equal(slices.Compact(he), want.EventTypes) {
		out = append(out, "event_types")
	}
	slices.Sort(out)
	return out
}

// secretBlind adjusts fields for a survey without the secret at hand
// (haveSecret false: harborport_webhook's secret_wo during a refresh): an
// update leaves "secret" out, since drift of a write-only secret is not
// detected (secret_wo_version drives its rewrite); an adoption lists it,
// since taking a policy over writes the configured secret whatever Harbor
// holds.
func secretBlind(fields []string, haveSecret, adopting bool) []string {
	if haveSecret {
		return fields
	}
	fields = slices.DeleteFunc(fields, func(f string) bool { return f == "secret" })
	if adopting {
		fields = append(fields, "secret")
		slices.Sort(fields)
	}
	return fields
}

// Fingerprint names a policy's state as Harbor returns it: its settings and
// update_time (which Harbor sets on every update, so an edit of the secret
// alone shows too), without the secret itself, so that plan files never hold
// anything derived from it.
func Fingerprint(p harbor.WebhookPolicy) string {
	events := slices.Clone(p.EventTypes)
	slices.Sort(events)
	targets := make([]harbor.WebhookTarget, len(p.Targets))
	for i, t := range p.Targets {
		t.AuthHeader = ""
		targets[i] = t
	}
	b, _ := json.Marshal(struct {
		Name, Description, Updated string
		Enabled                    bool
		Events                     []string
		Targets                    []harbor.WebhookTarget
	}{p.Name, p.Description, p.UpdateTime, p.Enabled, events, targets}) // plain strings and bools: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// ProjectID reads Item["project_id"] (JSON numbers decode as float64).
func ProjectID(it harbor.Item) int64 {
	f, _ := it["project_id"].(float64)
	return int64(f)
}
