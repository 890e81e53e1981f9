package mapping

import (
	"sort"
	"time"
)

// Kind is a Harbor resource kind a resource of the mapping reads.
type Kind string

const (
	KindProject    Kind = "project"
	KindUser       Kind = "user"
	KindRepository Kind = "repository"
	KindArtifact   Kind = "artifact"
)

// Kinds lists the four kinds in the order the seed document names them.
var Kinds = []Kind{KindProject, KindUser, KindRepository, KindArtifact}

// DefaultEvalTimeout bounds the jq work for one item (selector, or all
// mapping fields of one item), so a pathological program cannot hang a sync.
const DefaultEvalTimeout = time.Second

// Config is a parsed, compiled port-app-config. It is immutable and safe for
// concurrent use.
type Config struct {
	Resources []*Resource

	// Port request options, Ocean's defaults (internal/port/API-NOTES.md
	// "Ocean's port-app-config").
	DeleteDependentEntities      bool    // ?delete_dependents= on deletes
	CreateMissingRelatedEntities bool    // ?create_missing_related_entities= on upserts
	EnableMergeEntity            bool    // ?merge= on upserts
	EntityDeletionThreshold      float64 // 0..1, deleted ÷ owned above it → no deletes

	// EvalTimeout is the jq time budget per item (DefaultEvalTimeout if 0).
	// Set it before the first Select/Map call.
	EvalTimeout time.Duration

	Source string // what Parse was given as source

	// Scope is the ownership scope the mapping was parsed for ("" =
	// unscoped). Every entity then carries it in ScopeProperty, and jq sees
	// it as $scope (internal/DESIGN.md "Scoped ownership").
	Scope string
}

// Resource is one entry of resources[]: a kind, its selectors and its
// compiled mapping.
type Resource struct {
	Index    int  // position in resources[]
	Kind     Kind // which Harbor objects it reads
	Line     int  // YAML line of the entry
	Selector Selector

	cfg *Config

	query     *program // selector.query
	queryLine int

	itemsToParse          *program
	itemsToParseLine      int
	itemsToParseName      string
	itemsToParseTopDelete *program // del(<path>) for itemsToParseTopLevelTransform; nil = keep parent
	mappings              *mappingNode
	blueprint             *program
}

// Selector holds the Harbor-side selectors of the seed document
// ("Filtering and Selectors"). A nil pointer or "" means not set.
type Selector struct {
	// Query is jq that must yield a boolean for every item (default "true").
	Query string

	// project
	Public *bool  // metadata.public ("true"/"false" strings in Harbor) must equal this
	Name   string // glob on the project name, path.Match syntax ("prod-*")

	// repository. NameContains and NameStartsWith test the repository name
	// WITHOUT its "project/" prefix ("service-api" of "production/service-api"),
	// which is what a user means by "repos starting with service-".
	ProjectName    string // exact project name
	NameContains   string
	NameStartsWith string

	// artifact
	Tag              string // some tag's name equals this exactly
	WithTag          *bool  // fetch tags (Harbor's with_tag); nil = true
	WithScanOverview *bool  // fetch scan_overview; nil = true
}

// FetchTags reports whether artifacts must be fetched with with_tag=true.
func (s Selector) FetchTags() bool { return s.WithTag == nil || *s.WithTag }

// FetchScanOverview reports whether artifacts must be fetched with
// with_scan_overview=true.
func (s Selector) FetchScanOverview() bool { return s.WithScanOverview == nil || *s.WithScanOverview }

// KindResources returns the resources reading kind k, in file order.
func (c *Config) KindResources(k Kind) []*Resource {
	var out []*Resource
	for _, r := range c.Resources {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

// Blueprints returns the sorted, distinct blueprint identifiers the mapping
// writes to. ok is false if any resource computes its blueprint with jq
// (anything but a string literal like '"harborArtifact"'): then the set of
// blueprints a sync owns is not knowable up front.
func (c *Config) Blueprints() ([]string, bool) {
	seen := map[string]bool{}
	var out []string
	for _, r := range c.Resources {
		bp, ok := r.Blueprint()
		if !ok {
			return nil, false
		}
		if !seen[bp] {
			seen[bp] = true
			out = append(out, bp)
		}
	}
	sort.Strings(out)
	return out, true
}

// Blueprint returns the resource's blueprint when it is a string literal.
func (r *Resource) Blueprint() (string, bool) { return r.blueprint.stringLiteral() }

// Fields names what the mapping of a resource sets, so the catalog can ask
// Port for exactly those fields and compare only them (internal/DESIGN.md
// "Comparing entities": compared on the mapped fields only).
type Fields struct {
	Title, Icon, Team bool
	Properties        []string // sorted
	Relations         []string // sorted
}

// Fields reports which entity fields the resource's mapping sets.
func (r *Resource) Fields() Fields {
	f := Fields{}
	for i, k := range r.mappings.keys {
		switch k {
		case "title":
			f.Title = true
		case "icon":
			f.Icon = true
		case "team":
			f.Team = true
		case "properties", "relations":
			var ids []string
			ids = append(ids, r.mappings.children[i].keys...)
			sort.Strings(ids)
			if k == "properties" {
				f.Properties = ids
			} else {
				f.Relations = ids
			}
		}
	}
	if r.cfg != nil && r.cfg.Scope != "" {
		f.Properties = append(f.Properties, ScopeProperty)
		sort.Strings(f.Properties)
	}
	return f
}

// UsesSearch reports whether the identifier or a relation is a search query
// (internal/port/API-NOTES.md "Search queries in identifiers and relations").
// Ocean skips its pre-upsert diff for such entities (internal/port/API-NOTES.md
// "Ocean's equality rules"), because Port resolves them only on write.
func (r *Resource) UsesSearch() bool {
	if n := r.mappings.child("identifier"); n != nil && n.isObject() {
		return true
	}
	if rel := r.mappings.child("relations"); rel != nil {
		for _, c := range rel.children {
			if c.isObject() {
				return true
			}
		}
	}
	return false
}

// ItemsToParse returns the resource's itemsToParse jq ("" if unset).
func (r *Resource) ItemsToParse() string {
	if r.itemsToParse == nil {
		return ""
	}
	return r.itemsToParse.src
}

func (r *Resource) timeout() time.Duration {
	if r.cfg != nil && r.cfg.EvalTimeout > 0 {
		return r.cfg.EvalTimeout
	}
	return DefaultEvalTimeout
}
