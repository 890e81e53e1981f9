package port

import (
	"encoding/json"
	"reflect"
	"testing"
)

// An entity kept as Raw marshals to exactly its bytes and decodes to the
// entity it was encoded from.
func TestEntityRawRoundTrip(t *testing.T) {
	title := "web"
	orig := Entity{Identifier: "platform/web@sha256:1", Title: &title,
		Properties: map[string]any{"tags": []any{"v1", "latest"}, "size": float64(12)},
		Relations:  map[string]any{"repository": "platform/web"}}
	raw, err := orig.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	kept := Entity{Blueprint: "harborArtifact", Identifier: orig.Identifier, Raw: raw}
	again, err := kept.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(raw) {
		t.Fatalf("Raw entity marshals to %s, want its bytes %s", again, raw)
	}
	got, err := kept.Decoded()
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	want.Blueprint = "harborArtifact"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decoded() = %+v, want %+v", got, want)
	}
	if _, err := (Entity{Blueprint: "b", Identifier: "x", Raw: json.RawMessage(`{"identifier":`)}).Decoded(); err == nil {
		t.Fatal("Decoded accepted truncated JSON")
	}
}
