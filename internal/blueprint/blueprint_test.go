package blueprint

import (
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

func TestDesiredDefaultsMatchSeed(t *testing.T) {
	set := Desired(nil)
	want := map[Kind]struct {
		id, icon string
		props    []string
		rels     map[string]string
	}{
		Project:    {"harborProject", "Harbor", []string{"creationTime", "ownerName", "projectId", "public", "repoCount", "updateTime"}, nil},
		User:       {"harborUser", "User", []string{"admin", "creationTime", "email", "realname", "updateTime", "userId", "username"}, nil},
		Repository: {"harborRepository", "Docker", []string{"artifactCount", "creationTime", "name", "pullCount", "repositoryId", "updateTime"}, map[string]string{"project": "harborProject"}},
		Artifact:   {"harborArtifact", "Package", []string{"digest", "pushTime", "scanOverview", "size", "tags"}, map[string]string{"repository": "harborRepository", "project": "harborProject"}},
	}
	for k, w := range want {
		bp := set[k]
		if bp.Identifier != w.id || bp.Icon != w.icon {
			t.Errorf("%s: got %s/%s, want %s/%s", k, bp.Identifier, bp.Icon, w.id, w.icon)
		}
		if got := strings.Join(BuiltinProperties(k), ","); got != strings.Join(w.props, ",") {
			t.Errorf("%s properties: got %s", k, got)
		}
		if len(bp.Relations) != len(w.rels) {
			t.Errorf("%s relations: got %v", k, bp.Relations)
		}
		for id, target := range w.rels {
			if r := bp.Relations[id]; r.Target != target || r.Many || r.Required {
				t.Errorf("%s relation %s: got %+v", k, id, r)
			}
		}
	}
	if set[User].Schema.Properties["email"].Format != "email" || set[Artifact].Schema.Properties["pushTime"].Format != "date-time" {
		t.Error("formats of the seed blueprints are lost")
	}
}

func TestOverridesRenameRelationTargets(t *testing.T) {
	set := Desired(map[Kind]Override{
		Project:  {Identifier: "registryProject", Title: "Registry project"},
		Artifact: {ExtraProperties: map[string]port.Property{"vulnerabilityCount": {Type: "number"}}},
	})
	if set[Repository].Relations["project"].Target != "registryProject" || set[Artifact].Relations["project"].Target != "registryProject" {
		t.Fatalf("relations still target the default id: %+v", set[Artifact].Relations)
	}
	if set[Project].Title != "Registry project" || set[Project].Icon != "Harbor" {
		t.Errorf("title/icon override: %+v", set[Project])
	}
	if _, ok := set[Artifact].Schema.Properties["vulnerabilityCount"]; !ok {
		t.Error("extra property missing")
	}
}

func TestManagedIgnoresForeignFieldsAndCanonicalIsStable(t *testing.T) {
	desired := Desired(nil)[Repository]
	remote := Merge(desired, port.Blueprint{Identifier: desired.Identifier, Schema: port.BlueprintSchema{
		Properties: map[string]port.Property{"ownerTeam": {Type: "string"}}}})
	if _, ok := remote.Schema.Properties["ownerTeam"]; !ok {
		t.Fatal("Merge dropped a property a user added in Port")
	}
	if Canonical(Managed(desired, remote)) != Canonical(desired) {
		t.Fatalf("a foreign property shows as drift:\n%s\n%s", Canonical(Managed(desired, remote)), Canonical(desired))
	}
	edited := remote
	edited.Schema.Properties = map[string]port.Property{}
	for id, p := range remote.Schema.Properties {
		edited.Schema.Properties[id] = p
	}
	edited.Schema.Properties["pullCount"] = port.Property{Type: "string"}
	if Canonical(Managed(desired, edited)) == Canonical(desired) {
		t.Fatal("an edited managed property does not show as drift")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		o    map[Kind]Override
		want string
	}{
		{"ok", map[Kind]Override{Artifact: {ExtraProperties: map[string]port.Property{"isActive": {Type: "boolean"}}}}, ""},
		{"bad id", map[Kind]Override{Project: {Identifier: "bad id"}}, `project.identifier: blueprint identifier "bad id" may contain only`},
		{"dot id", map[Kind]Override{Project: {Identifier: ".."}}, `must not be "." or ".."`},
		{"duplicate", map[Kind]Override{User: {Identifier: "harborProject"}}, "already used by project"},
		{"builtin clash", map[Kind]Override{Artifact: {ExtraProperties: map[string]port.Property{"digest": {Type: "string"}}}}, "built in"},
		{"bad type", map[Kind]Override{Artifact: {ExtraProperties: map[string]port.Property{"x": {Type: "integer"}}}}, `type "integer" is not one of`},
		{"bad format", map[Kind]Override{Artifact: {ExtraProperties: map[string]port.Property{"x": {Type: "string", Format: "uri"}}}}, `format "uri" is not one of`},
		{"format on number", map[Kind]Override{Artifact: {ExtraProperties: map[string]port.Property{"x": {Type: "number", Format: "url"}}}}, `needs type "string"`},
		{"bad property id", map[Kind]Override{Artifact: {ExtraProperties: map[string]port.Property{"has space": {Type: "string"}}}}, "may contain only A-Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, e := range Validate(c.o) {
				got = append(got, string(e.Kind)+"."+e.Field+": "+e.Message)
			}
			joined := strings.Join(got, "\n")
			if c.want == "" && joined != "" || !strings.Contains(joined, c.want) {
				t.Fatalf("got %q, want %q", joined, c.want)
			}
		})
	}
}
