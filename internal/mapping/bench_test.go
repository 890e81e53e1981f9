package mapping

import "testing"

// BenchmarkMapArtifact is the per-artifact cost of the default mapping
// (selector + mapping via Entities); the catalog maps ~100k per sync.
func BenchmarkMapArtifact(b *testing.B) {
	r := Default(DefaultIDs()).KindResources(KindArtifact)[0]
	item := items(b)["artifactScanned"]
	b.ReportAllocs()
	for b.Loop() {
		es, ws, err := r.Entities(item)
		if len(es) != 1 || len(ws) != 0 || err != nil {
			b.Fatal(es, ws, err)
		}
	}
}

// BenchmarkMapArtifactSeed is the seed's "Customizing Mappings" example,
// which pipes through tostring and split (no fast paths).
func BenchmarkMapArtifactSeed(b *testing.B) {
	c, err := Parse(seedCustomizing, "seed")
	if err != nil {
		b.Fatal(err)
	}
	r := c.Resources[0]
	item := items(b)["artifactScanned"]
	b.ReportAllocs()
	for b.Loop() {
		if es, _, _ := r.Entities(item); len(es) != 1 {
			b.Fatal(es)
		}
	}
}

func BenchmarkParseDefault(b *testing.B) {
	y := DefaultYAML(DefaultIDs())
	for b.Loop() {
		if _, err := Parse(y, "d"); err != nil {
			b.Fatal(err)
		}
	}
}
