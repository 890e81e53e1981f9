package port

import (
	"encoding/json"
	"fmt"
)

// Blueprint is the part of a Port blueprint that harborport manages.
// Wire format: Port OpenAPI `POST /v1/blueprints` (internal/port/API-NOTES.md
// "Blueprints").
type Blueprint struct {
	Identifier  string              `json:"identifier"`
	Title       string              `json:"title"`
	Icon        string              `json:"icon,omitempty"`
	Description string              `json:"description,omitempty"`
	Schema      BlueprintSchema     `json:"schema"`
	Relations   map[string]Relation `json:"relations,omitempty"`

	// Read-only metadata returned by Port; never sent.
	CreatedAt string `json:"createdAt,omitempty"`
	UpdatedAt string `json:"updatedAt,omitempty"`
}

// BlueprintSchema is a blueprint's JSON-schema-like property list.
type BlueprintSchema struct {
	Properties map[string]Property `json:"properties"`
	Required   []string            `json:"required,omitempty"`
}

// Property is one blueprint property.
type Property struct {
	Type        string `json:"type"`
	Format      string `json:"format,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Icon        string `json:"icon,omitempty"`
	Enum        []any  `json:"enum,omitempty"`
}

// Relation is one blueprint relation.
type Relation struct {
	Target   string `json:"target"`
	Title    string `json:"title,omitempty"`
	Required bool   `json:"required"`
	Many     bool   `json:"many"`
}

// Entity is a Port entity as harborport writes and compares it.
//
// Identifier is normally a string; a mapping may instead produce a search
// query ("map by property", internal/port/API-NOTES.md
// "Search queries in identifiers and relations"), kept in IdentifierQuery.
type Entity struct {
	Identifier      string         `json:"-"`
	IdentifierQuery map[string]any `json:"-"`
	Blueprint       string         `json:"-"`
	Title           *string        `json:"-"`
	Icon            *string        `json:"-"`
	Team            any            `json:"-"`
	Properties      map[string]any `json:"-"`
	Relations       map[string]any `json:"-"`

	// Raw, when set, is the entity's body already encoded as MarshalJSON
	// would write it without the blueprint; Title through Relations are then
	// unset, and MarshalJSON returns Raw as is. Large syncs keep their
	// creates and updates this way: the JSON is a fraction of the decoded
	// maps' memory and is what a bulk write sends anyway. Use Decoded to
	// read the fields.
	Raw json.RawMessage `json:"-"`
}

// Decoded returns e with its body decoded, when it is kept as Raw.
func (e Entity) Decoded() (Entity, error) {
	if e.Raw == nil {
		return e, nil
	}
	var d Entity
	if err := d.UnmarshalJSON(e.Raw); err != nil {
		return e, fmt.Errorf("entity %s: %w", e.Key(), err)
	}
	d.Blueprint, d.Identifier = e.Blueprint, e.Identifier
	return d, nil
}

// Key names an entity uniquely inside Port: "<blueprint>/<identifier>".
func (e Entity) Key() string { return e.Blueprint + "/" + e.Identifier }

type wireEntity struct {
	Identifier any            `json:"identifier"`
	Blueprint  string         `json:"blueprint,omitempty"`
	Title      *string        `json:"title,omitempty"`
	Icon       *string        `json:"icon,omitempty"`
	Team       any            `json:"team,omitempty"`
	Properties map[string]any `json:"properties"`
	Relations  map[string]any `json:"relations"`
}

// MarshalJSON writes the entity body Port expects. The blueprint is part of
// the URL on writes, so it is omitted when empty.
func (e Entity) MarshalJSON() ([]byte, error) {
	if e.Raw != nil {
		return e.Raw, nil // without the blueprint, which writes carry in the URL
	}
	w := wireEntity{Identifier: e.Identifier, Blueprint: e.Blueprint, Title: e.Title, Icon: e.Icon, Team: e.Team,
		Properties: e.Properties, Relations: e.Relations}
	if e.IdentifierQuery != nil {
		w.Identifier = e.IdentifierQuery
	}
	if w.Properties == nil {
		w.Properties = map[string]any{}
	}
	if w.Relations == nil {
		w.Relations = map[string]any{}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads an entity as Port returns it from search or GET.
func (e *Entity) UnmarshalJSON(b []byte) error {
	var w wireEntity
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	return e.fromWire(&w)
}

// fromWire sets e from its decoded wire form. Decoding pages into
// []wireEntity and converting (instead of []Entity, whose UnmarshalJSON
// makes encoding/json scan every element twice) saves a no-op plan ~10% CPU.
func (e *Entity) fromWire(w *wireEntity) error {
	*e = Entity{Blueprint: w.Blueprint, Title: w.Title, Icon: w.Icon, Team: w.Team, Properties: w.Properties, Relations: w.Relations}
	switch id := w.Identifier.(type) {
	case string:
		e.Identifier = id
	case map[string]any:
		e.IdentifierQuery = id
	case nil:
	default:
		return fmt.Errorf("entity identifier: unexpected JSON type %T", id)
	}
	return nil
}
