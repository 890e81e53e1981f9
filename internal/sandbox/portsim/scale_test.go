package portsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// direct drives the handler in-process (no sockets) for scale checks.
type direct struct {
	tb    testing.TB
	srv   *Server
	token string
}

func newDirect(tb testing.TB) *direct {
	d := &direct{tb: tb, srv: New(Options{ClientID: "a", ClientSecret: "b", Seed: 1})}
	st, out := d.post("/v1/auth/access_token", map[string]any{"clientId": "a", "clientSecret": "b"})
	if st != 200 {
		tb.Fatalf("login: %d %v", st, out)
	}
	d.token = as[string](tb, out["accessToken"])
	if st, out := d.post("/v1/blueprints", repositoryBPNoRel()); st != 201 {
		tb.Fatalf("create blueprint: %d %v", st, out)
	}
	return d
}

func repositoryBPNoRel() map[string]any {
	return map[string]any{"identifier": "repository", "title": "Repository", "schema": map[string]any{"properties": map[string]any{
		"name": map[string]any{"type": "string"}, "pulls": map[string]any{"type": "number"}}}}
}

// post sends body as JSON to path; the scale checks only use POST (login, bulk, search).
func (d *direct) post(path string, body any) (int, map[string]any) {
	buf, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(buf))
	req.Header.Set("Content-Type", "application/json")
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	rec := httptest.NewRecorder()
	d.srv.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func (d *direct) load(n int) {
	for i := 0; i < n; i += 20 {
		batch := make([]any, 0, 20)
		for j := i; j < i+20 && j < n; j++ {
			batch = append(batch, map[string]any{"identifier": fmt.Sprintf("proj-%d/repo-%d", j%97, j),
				"properties": map[string]any{"name": fmt.Sprint(j), "pulls": float64(j)}})
		}
		if st, out := d.post("/v1/blueprints/repository/entities/bulk?upsert=true&merge=true", map[string]any{"entities": batch}); st != 200 {
			d.tb.Fatalf("bulk at %d: %d %v", i, st, out)
		}
	}
}

// 100k entities through bulk upsert, then read back with paged search.
// Guards against O(n) work per request.
func TestScale100k(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	const n = 100_000
	d := newDirect(t)
	start := time.Now()
	d.load(n)
	loaded := time.Since(start)
	seen, from := 0, ""
	for {
		body := map[string]any{"limit": 1000, "include": []any{"identifier", "properties.pulls"}}
		if from != "" {
			body["from"] = from
		}
		st, out := d.post("/v1/blueprints/repository/entities/search", body)
		if st != 200 {
			t.Fatalf("search: %d %v", st, out)
		}
		seen += len(as[[]any](t, out["entities"]))
		next, _ := out["next"].(string)
		if next == "" {
			break
		}
		from = next
	}
	t.Logf("loaded %d entities in %v, paged in %v", n, loaded, time.Since(start)-loaded)
	if seen != n {
		t.Fatalf("paged %d entities, want %d", seen, n)
	}
	if d.srv.EntityCount("repository") != n {
		t.Fatal("count mismatch")
	}
}

func BenchmarkBulkUpsert(b *testing.B) {
	d := newDirect(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		batch := make([]any, 20)
		for j := range batch {
			batch[j] = map[string]any{"identifier": fmt.Sprintf("r-%d-%d", i, j), "properties": map[string]any{"pulls": float64(j)}}
		}
		d.post("/v1/blueprints/repository/entities/bulk?upsert=true", map[string]any{"entities": batch})
	}
}
