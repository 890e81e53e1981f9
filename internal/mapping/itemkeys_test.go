package mapping

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestItemKeys(t *testing.T) {
	def := Default(DefaultIDs())
	keys, ok := def.ItemKeys(KindArtifact)
	want := []string{"digest", "id", "projectName", "push_time", "repositoryName", "scan_overview", "size", "tags"}
	if !ok || !slices.Equal(keys, want) {
		t.Fatalf("built-in artifact keys = %v %v, want %v", keys, ok, want)
	}
	for _, c := range []struct {
		yaml string
		want []string
		ok   bool
	}{
		{`resources: [{kind: artifact, port: {entity: {mappings: {identifier: .digest, blueprint: '"b"', properties: {x: '.extra_attrs.os'}}}}}]`,
			[]string{"digest", "extra_attrs", "id", "projectName", "repositoryName", "tags"}, true},
		{`resources: [{kind: artifact, port: {entity: {mappings: {identifier: .digest, blueprint: '"b"', properties: {x: 'keys'}}}}}]`, nil, false},
		{`resources: [{kind: artifact, port: {entity: {mappings: {identifier: .digest, blueprint: '"b"', properties: {x: '. | .a'}}}}}]`, nil, false},
		{`resources: [{kind: artifact, selector: {query: '.size > 10'}, port: {entity: {mappings: {identifier: .digest, blueprint: '"b"'}}}}]`, nil, false},
		{`resources: [{kind: artifact, selector: {query: '.media_type == "x"'}, port: {entity: {mappings: {identifier: '.repositoryName + "@" + .digest', blueprint: '"b"'}}}}]`,
			[]string{"digest", "id", "media_type", "projectName", "repositoryName", "tags"}, true},
	} {
		cfg, err := Parse(c.yaml, "t")
		if err != nil {
			t.Fatal(err)
		}
		keys, ok := cfg.ItemKeys(KindArtifact)
		if ok != c.ok || !slices.Equal(keys, c.want) {
			t.Errorf("%s: keys %v %v, want %v %v", c.yaml, keys, ok, c.want, c.ok)
		}
	}
}

// Decoding only ItemKeys of an item changes nothing the mapping makes of
// it: the built-in mapping and every seed example, on the real items and on
// generated variants.
func TestItemKeysPruningChangesNothing(t *testing.T) {
	configs := map[string]*Config{"default": Default(DefaultIDs())}
	files, _ := filepath.Glob("testdata/seed/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := Parse(string(b), f); err == nil {
			configs[f] = c
		}
	}
	r := rand.New(rand.NewPCG(9, 9))
	captured := items(t)
	checked := 0
	for name, cfg := range configs {
		for _, k := range Kinds {
			keys, ok := cfg.ItemKeys(k)
			if !ok {
				continue
			}
			base := captured[string(k)]
			if base == nil {
				continue
			}
			for i := range 40 {
				full := deepCopyMap(base)
				if i > 0 {
					for _, f := range []string{"tags", "scan_overview", "extra_attrs", "metadata", "size", "digest"} {
						if r.IntN(3) == 0 {
							full[f] = genValue(r, 2)
						}
					}
				}
				pruned := map[string]any{}
				for _, key := range keys {
					if v, ok := full[key]; ok {
						pruned[key] = v
					}
				}
				for _, res := range cfg.KindResources(k) {
					ef, wf, errf := res.Entities(deepCopyMap(full))
					ep, wp, errp := res.Entities(pruned)
					if !reflect.DeepEqual(ef, ep) || len(wf) != len(wp) || (errf == nil) != (errp == nil) {
						t.Fatalf("%s %s: pruned to %v, the entities differ:\nfull   %+v %v %v\npruned %+v %v %v", name, k, keys, ef, wf, errf, ep, wp, errp)
					}
					checked++
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d comparisons", checked)
	}
}
