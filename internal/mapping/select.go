package mapping

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// Select reports whether item passes the resource's selector: every
// Harbor-side selector (public, name, projectName, nameContains,
// nameStartsWith, tag — evaluated locally even when the catalog also pushes
// them down to Harbor's q=, which is cheap and guards against lenient
// servers) AND the jq query on item as given.
//
// A query that yields anything but a boolean — null, no output, a runtime
// error, a timeout — is an *ItemError (Ocean: EntityProcessorException,
// internal/port/API-NOTES.md "Ocean's jq rules"), which must stop the delete
// phase.
//
// For a resource with itemsToParse, Ocean evaluates the query on each
// expanded element rather than on the Harbor item; Entities does that.
func (r *Resource) Select(item map[string]any) (bool, error) {
	if !r.matchHarbor(item) {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout())
	defer cancel()
	return r.evalQuery(ctx, item, itemID(r.Kind, item))
}

func (r *Resource) evalQuery(ctx context.Context, input map[string]any, id string) (bool, error) {
	v, ok, err := r.query.run(ctx, input)
	fail := func(msg string) error {
		return &ItemError{Resource: r.Index, Line: r.queryLine, Field: "selector.query", Item: id, Message: msg}
	}
	switch {
	case err == errTimeout:
		return false, fail(fmt.Sprintf("selector query %q did not finish within %s", r.query.src, r.timeout()))
	case err != nil:
		return false, fail(fmt.Sprintf("selector query %q failed: %v", r.query.src, err))
	case !ok:
		return false, fail(fmt.Sprintf("selector query %q produced no output; it must yield true or false", r.query.src))
	}
	b, isBool := v.(bool)
	if !isBool {
		msg := fmt.Sprintf("selector query %q must yield a boolean, got %s", r.query.src, preview(v))
		if v == nil {
			msg += " (a missing field is null: compare explicitly, e.g. .x == true)"
		}
		return false, fail(msg)
	}
	return b, nil
}

// matchHarbor applies the Harbor-side selectors of the seed document.
func (r *Resource) matchHarbor(item map[string]any) bool {
	s := &r.Selector
	switch r.Kind {
	case KindProject:
		if s.Public != nil {
			// metadata values are strings (internal/harbor/API-NOTES.md
			// "Projects"); a project without the key is not public.
			md, _ := item["metadata"].(map[string]any)
			pub, _ := md["public"].(string)
			if (pub == "true") != *s.Public {
				return false
			}
		}
		if s.Name != "" {
			name, _ := item["name"].(string)
			if ok, _ := path.Match(s.Name, name); !ok {
				return false
			}
		}
	case KindRepository:
		project, short := repoNames(item)
		if s.ProjectName != "" && project != s.ProjectName {
			return false
		}
		if s.NameContains != "" && !strings.Contains(short, s.NameContains) {
			return false
		}
		if s.NameStartsWith != "" && !strings.HasPrefix(short, s.NameStartsWith) {
			return false
		}
	case KindArtifact:
		if s.Tag != "" {
			tags, _ := item["tags"].([]any)
			found := false
			for _, t := range tags {
				if m, _ := t.(map[string]any); m != nil && m["name"] == s.Tag {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// repoNames splits a repository's full Harbor name ("project/a/b") into its
// project and the name below it ("a/b"), preferring the enriched projectName.
func repoNames(item map[string]any) (project, short string) {
	full, _ := item["name"].(string)
	project, _ = item["projectName"].(string)
	if project == "" {
		project, _, _ = strings.Cut(full, "/")
	}
	short = strings.TrimPrefix(full, project+"/")
	return project, short
}

// itemID is a short, human-readable id of a Harbor item for messages.
func itemID(k Kind, item map[string]any) string {
	str := func(key string) string { s, _ := item[key].(string); return s }
	switch k {
	case KindProject, KindRepository:
		if s := str("name"); s != "" {
			return s
		}
	case KindUser:
		if s := str("username"); s != "" {
			return s
		}
	case KindArtifact:
		d := str("digest")
		if len(d) > 19 { // "sha256:" + 12 hex, as docker shows
			d = d[:19]
		}
		repo := str("repositoryName")
		if repo == "" {
			repo = str("repository_name")
		}
		if repo != "" && d != "" {
			return repo + "@" + d
		}
		if d != "" {
			return d
		}
	}
	for _, key := range []string{"id", "project_id", "user_id"} {
		if v, ok := item[key]; ok {
			return fmt.Sprintf("%s=%v", key, v)
		}
	}
	return "(unnamed item)"
}

// preview renders a value for an error message: jq type and a short JSON form.
func preview(v any) string {
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return typeName(v) + " (" + s + ")"
}
