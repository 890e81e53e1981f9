package harborsim

import "testing"

// With StampVersions every object's JSON carries a version that grows with
// each change of that object only; deletions get a version too. Without it
// the JSON has no such field.
func TestStampVersions(t *testing.T) {
	c := newTC(t, Options{StampVersions: true, NoLibraryProject: true})
	s := c.s
	s.CreateProject("apps", false)
	d, err := s.PushArtifact("apps", "web", []string{"1"}, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	art := func() int64 { v, _ := s.Stamp("artifact", "apps/web@"+d); return v }
	repo := func() int64 { v, _ := s.Stamp("repository", "apps/web"); return v }
	a0, r0 := art(), repo()
	if a0 == 0 || r0 == 0 {
		t.Fatalf("not stamped: artifact %d repository %d", a0, r0)
	}
	if err := s.ScanArtifact("apps", "web", d, map[string]int{"Low": 1}); err != nil {
		t.Fatal(err)
	}
	if a1, r1 := art(), repo(); a1 <= a0 || r1 != r0 {
		t.Fatalf("scan: artifact %d→%d, repository %d→%d; want only the artifact to grow", a0, a1, r0, r1)
	}
	a1 := art()
	if err := s.AddTag("apps", "web", d, "2"); err != nil {
		t.Fatal(err)
	}
	if a2 := art(); a2 <= a1 {
		t.Fatalf("a tag did not change the artifact's version: %d→%d", a1, a2)
	}

	// The API shows the stamp.
	var got map[string]any
	c.req("GET", "/api/v2.0/projects/apps/repositories/web/artifacts/"+d, admin, "").json(t, &got)
	if v, _ := got["x_harborport_version"].(float64); int64(v) != art() {
		t.Fatalf("x_harborport_version = %v, want %d", got["x_harborport_version"], art())
	}

	// A deletion is an event with a version and Present false.
	_, from := s.StampLog(0)
	last := art()
	if err := s.DeleteArtifact("apps", "web", d); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.StampLog(from)
	var del *StampEvent
	for i := range evs {
		if evs[i].Key == StampKey("artifact", "apps/web@"+d) {
			del = &evs[i]
		}
	}
	if del == nil || del.Present || del.Version <= last {
		t.Fatalf("deletion events %+v", evs)
	}
	if v, present := s.Stamp("artifact", "apps/web@"+d); present || v != del.Version {
		t.Fatalf("after delete: %d %v", v, present)
	}

	// Off by default: Harbor's JSON, untouched.
	plain := newTC(t, Options{NoLibraryProject: true})
	plain.s.CreateProject("apps", false)
	var body map[string]any
	plain.req("GET", "/api/v2.0/projects/apps", admin, "").json(t, &body)
	if _, ok := body["x_harborport_version"]; ok || body["name"] != "apps" {
		t.Fatalf("stamp without StampVersions: %v", body)
	}
}
