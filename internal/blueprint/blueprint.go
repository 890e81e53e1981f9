// Package blueprint defines the four Port blueprints of the Harbor integration
// and the parts of them harborport manages.
//
// The defaults follow the "Default Blueprints" section of Port's Ocean Harbor
// integration documentation (internal/port/API-NOTES.md
// "Port's Harbor integration documentation"), so the catalog looks the same whether
// Ocean or harborport fills it.
package blueprint

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Kind is one Harbor resource kind.
type Kind string

const (
	Project    Kind = "project"
	User       Kind = "user"
	Repository Kind = "repository"
	Artifact   Kind = "artifact"
)

// Kinds lists every kind in creation order: relation targets first.
var Kinds = []Kind{Project, User, Repository, Artifact}

// Override is what a user may change about one blueprint.
type Override struct {
	Identifier      string
	Title           string
	Icon            string
	ExtraProperties map[string]port.Property
}

type builtin struct {
	identifier, title, icon string
	properties              map[string]port.Property
	relations               map[string]Kind // relation id → target kind
}

func prop(typ, format string) port.Property { return port.Property{Type: typ, Format: format} }

var builtins = map[Kind]builtin{
	Project: {
		identifier: "harborProject", title: "Harbor Project", icon: "Harbor",
		properties: map[string]port.Property{
			"projectId":    titled(prop("number", ""), "Project ID"),
			"ownerName":    titled(prop("string", ""), "Owner"),
			"public":       titled(prop("boolean", ""), "Public"),
			"repoCount":    titled(prop("number", ""), "Repositories"),
			"creationTime": titled(prop("string", "date-time"), "Created"),
			"updateTime":   titled(prop("string", "date-time"), "Updated"),
		},
	},
	User: {
		identifier: "harborUser", title: "Harbor User", icon: "User",
		properties: map[string]port.Property{
			"userId":       titled(prop("number", ""), "User ID"),
			"username":     titled(prop("string", ""), "Username"),
			"email":        titled(prop("string", "email"), "Email"),
			"realname":     titled(prop("string", ""), "Real name"),
			"admin":        titled(prop("boolean", ""), "Administrator"),
			"creationTime": titled(prop("string", "date-time"), "Created"),
			"updateTime":   titled(prop("string", "date-time"), "Updated"),
		},
	},
	Repository: {
		identifier: "harborRepository", title: "Harbor Repository", icon: "Docker",
		properties: map[string]port.Property{
			"repositoryId":  titled(prop("number", ""), "Repository ID"),
			"name":          titled(prop("string", ""), "Name"),
			"artifactCount": titled(prop("number", ""), "Artifacts"),
			"pullCount":     titled(prop("number", ""), "Pulls"),
			"creationTime":  titled(prop("string", "date-time"), "Created"),
			"updateTime":    titled(prop("string", "date-time"), "Updated"),
		},
		relations: map[string]Kind{"project": Project},
	},
	Artifact: {
		identifier: "harborArtifact", title: "Harbor Artifact", icon: "Package",
		properties: map[string]port.Property{
			"digest":       titled(prop("string", ""), "Digest"),
			"tags":         titled(prop("array", ""), "Tags"),
			"size":         titled(prop("number", ""), "Size (bytes)"),
			"pushTime":     titled(prop("string", "date-time"), "Pushed"),
			"scanOverview": titled(prop("object", ""), "Scan overview"),
		},
		relations: map[string]Kind{"repository": Repository, "project": Project},
	},
}

func titled(p port.Property, t string) port.Property { p.Title = t; return p }

// DefaultIdentifier is the blueprint identifier Ocean's Harbor integration uses for k.
func DefaultIdentifier(k Kind) string { return builtins[k].identifier }

// BuiltinProperties returns the ids of the properties harborport always defines for k.
func BuiltinProperties(k Kind) []string {
	ids := make([]string, 0, len(builtins[k].properties))
	for id := range builtins[k].properties {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Set is the four blueprints harborport manages, keyed by kind.
type Set map[Kind]port.Blueprint

// Identifiers maps each kind to its blueprint identifier, applying overrides.
func Identifiers(o map[Kind]Override) map[Kind]string {
	ids := make(map[Kind]string, len(Kinds))
	for _, k := range Kinds {
		ids[k] = builtins[k].identifier
		if id := o[k].Identifier; id != "" {
			ids[k] = id
		}
	}
	return ids
}

// Desired builds the four blueprints from the defaults and the user's overrides.
func Desired(o map[Kind]Override) Set {
	ids := Identifiers(o)
	set := make(Set, len(Kinds))
	for _, k := range Kinds {
		b := builtins[k]
		ov := o[k]
		bp := port.Blueprint{
			Identifier: ids[k],
			Title:      firstNonEmpty(ov.Title, b.title),
			Icon:       firstNonEmpty(ov.Icon, b.icon),
			Schema:     port.BlueprintSchema{Properties: map[string]port.Property{}},
		}
		for id, p := range b.properties {
			bp.Schema.Properties[id] = p
		}
		for id, p := range ov.ExtraProperties {
			bp.Schema.Properties[id] = p
		}
		if len(b.relations) > 0 {
			bp.Relations = map[string]port.Relation{}
			for id, target := range b.relations {
				bp.Relations[id] = port.Relation{Target: ids[target], Title: relationTitle(id)}
			}
		}
		set[k] = bp
	}
	return set
}

// ScopeProperty is the property scoped syncs mark their entities with
// (internal/DESIGN.md "Scoped ownership").
func ScopeProperty() (string, port.Property) {
	p := titled(prop("string", ""), "harborport scope")
	p.Description = "The harborport_sync scope that owns this entity (set by harborport; do not edit)"
	return mapping.ScopeProperty, p
}

// WithScopeProperty adds ScopeProperty to every blueprint of set.
func WithScopeProperty(set Set) Set {
	id, p := ScopeProperty()
	for k, bp := range set {
		bp.Schema.Properties[id] = p
		set[k] = bp
	}
	return set
}

func relationTitle(id string) string {
	r := []rune(id)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Managed returns the part of remote that harborport manages, shaped like
// desired: its identifier, title, icon, and only the properties and relations
// desired names. Properties and relations a user added in Port are not
// harborport's business, so they never show up as drift.
func Managed(desired, remote port.Blueprint) port.Blueprint {
	m := port.Blueprint{Identifier: remote.Identifier, Title: remote.Title, Icon: remote.Icon,
		Schema: port.BlueprintSchema{Properties: map[string]port.Property{}}}
	for id := range desired.Schema.Properties {
		if p, ok := remote.Schema.Properties[id]; ok {
			m.Schema.Properties[id] = p
		}
	}
	for id := range desired.Relations {
		if r, ok := remote.Relations[id]; ok {
			if m.Relations == nil {
				m.Relations = map[string]port.Relation{}
			}
			m.Relations[id] = r
		}
	}
	return m
}

// Canonical renders the managed part of a blueprint as stable, indented-free JSON.
// Terraform shows a diff of two such strings structurally, which is how drift
// in Port reads in a plan.
func Canonical(bp port.Blueprint) string {
	v := map[string]any{
		"identifier": bp.Identifier,
		"title":      bp.Title,
		"icon":       bp.Icon,
		"properties": bp.Schema.Properties,
	}
	if len(bp.Relations) > 0 {
		v["relations"] = bp.Relations
	}
	b, err := json.Marshal(v) // encoding/json sorts map keys: stable output.
	if err != nil {
		panic(err) // only plain data: unreachable
	}
	return string(b)
}

// Merge returns remote with desired's managed fields written over it, keeping
// whatever else (other properties, relations, required, mirror properties…)
// a user added in Port. It is the body of a full-replace PUT that repairs drift.
func Merge(desired, remote port.Blueprint) port.Blueprint {
	out := remote
	out.Identifier, out.Title, out.Icon = desired.Identifier, desired.Title, desired.Icon
	out.Schema.Properties = map[string]port.Property{}
	for id, p := range remote.Schema.Properties {
		out.Schema.Properties[id] = p
	}
	for id, p := range desired.Schema.Properties {
		out.Schema.Properties[id] = p
	}
	if len(desired.Relations) > 0 || len(remote.Relations) > 0 {
		out.Relations = map[string]port.Relation{}
		for id, r := range remote.Relations {
			out.Relations[id] = r
		}
		for id, r := range desired.Relations {
			out.Relations[id] = r
		}
	}
	out.CreatedAt, out.UpdatedAt = "", ""
	return out
}

// Bare is bp without relations: the first of Ocean's three creation stages,
// which lets blueprints that relate to each other be created in any order.
func Bare(bp port.Blueprint) port.Blueprint {
	bp.Relations = nil
	return bp
}

// Port's identifier rules (internal/port/API-NOTES.md "Blueprints"). Go's regexp has
// no look-ahead, so the "not . or .." part of `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$`
// is checked by hand.
var (
	blueprintIDChars = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/-]+$`)
	propertyID       = regexp.MustCompile(`^[A-Za-z0-9@_=\-]+$`)
)

// ValidIdentifier reports why id is not a valid blueprint identifier, or "".
func ValidIdentifier(id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case len([]rune(id)) > 100:
		return "must be at most 100 characters"
	case id == "." || id == "..":
		return `must not be "." or ".."`
	case !blueprintIDChars.MatchString(id):
		return "may contain only letters, digits and @ _ . + : \\ / -"
	}
	return ""
}

// ValidPropertyID reports why id is not a valid property identifier, or "".
func ValidPropertyID(id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case len(id) > 100:
		return "must be at most 100 characters"
	case !propertyID.MatchString(id):
		return "may contain only A-Z a-z 0-9 @ _ = -"
	}
	return ""
}

// PropertyTypes and PropertyFormats are the values Port accepts
// (internal/port/API-NOTES.md "Blueprints").
var (
	PropertyTypes   = []string{"string", "number", "boolean", "object", "array"}
	PropertyFormats = []string{"date-time", "url", "email", "idn-email", "ipv4", "ipv6", "markdown", "yaml",
		"user", "blueprints", "team", "timer", "proto", "labeled-url"}
)

// Validate checks the overrides before anything is sent to Port. Each problem
// names the kind and field so the provider can point at the attribute.
func Validate(o map[Kind]Override) []FieldError {
	var errs []FieldError
	seen := map[string]Kind{}
	ids := Identifiers(o)
	for _, k := range Kinds {
		if why := ValidIdentifier(ids[k]); why != "" && o[k].Identifier != "" {
			errs = append(errs, FieldError{Kind: k, Field: "identifier", Message: fmt.Sprintf("blueprint identifier %q %s", ids[k], why)})
		}
		if other, dup := seen[ids[k]]; dup {
			errs = append(errs, FieldError{Kind: k, Field: "identifier", Message: fmt.Sprintf("blueprint identifier %q is already used by %s; each kind needs its own blueprint", ids[k], other)})
		}
		seen[ids[k]] = k
		if t := o[k].Title; len([]rune(t)) > 100 {
			errs = append(errs, FieldError{Kind: k, Field: "title", Message: "title must be at most 100 characters"})
		}
		names := make([]string, 0, len(o[k].ExtraProperties))
		for id := range o[k].ExtraProperties {
			names = append(names, id)
		}
		sort.Strings(names)
		for _, id := range names {
			p := o[k].ExtraProperties[id]
			field := "extra_properties[" + id + "]"
			if why := ValidPropertyID(id); why != "" {
				errs = append(errs, FieldError{Kind: k, Field: field, Message: fmt.Sprintf("property identifier %q %s", id, why)})
			}
			if _, clash := builtins[k].properties[id]; clash {
				errs = append(errs, FieldError{Kind: k, Field: field, Message: fmt.Sprintf("property %q is built in to the %s blueprint; choose another name", id, k)})
			}
			if !contains(PropertyTypes, p.Type) {
				errs = append(errs, FieldError{Kind: k, Field: field + ".type", Message: fmt.Sprintf("type %q is not one of %s", p.Type, strings.Join(PropertyTypes, ", "))})
			}
			if p.Format != "" && !contains(PropertyFormats, p.Format) {
				errs = append(errs, FieldError{Kind: k, Field: field + ".format", Message: fmt.Sprintf("format %q is not one of %s", p.Format, strings.Join(PropertyFormats, ", "))})
			}
			if p.Format != "" && p.Type != "string" {
				errs = append(errs, FieldError{Kind: k, Field: field + ".format", Message: fmt.Sprintf("format %q needs type \"string\" (got %q)", p.Format, p.Type)})
			}
		}
	}
	return errs
}

// FieldError is one invalid override.
type FieldError struct {
	Kind    Kind
	Field   string
	Message string
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
