package provider

import (
	"strings"
	"testing"
)

// The configuration's syncs against each other: the same sync planned
// again is one entry; scoped syncs share blueprints; an unscoped one shares
// nothing; one scope is one sync's.
func TestSyncRegistry(t *testing.T) {
	all := []string{"harborArtifact", "harborProject"}
	cases := []struct {
		name  string
		first syncInfo
		id    string // the second's identity ("a" = the first's)
		then  syncInfo
		err   string // "" = accepted
	}{
		{"same sync planned again", syncInfo{"eu", all}, "a", syncInfo{"eu", all}, ""},
		{"two scopes share blueprints", syncInfo{"eu", all}, "b", syncInfo{"us", all}, ""},
		{"unscoped syncs on disjoint blueprints", syncInfo{"", []string{"harborProject"}}, "b", syncInfo{"", []string{"prodProject"}}, ""},
		{"unscoped beside scoped", syncInfo{"eu", all}, "b", syncInfo{"", []string{"harborProject"}},
			`an unscoped harborport_sync (blueprints harborProject) and the harborport_sync with scope "eu" (blueprints harborArtifact, harborProject) of this configuration both write to harborProject`},
		{"two unscoped on one blueprint", syncInfo{"", all}, "b", syncInfo{"", all}, "An unscoped sync owns every entity"},
		{"one scope, two configurations", syncInfo{"eu", all}, "b", syncInfo{"eu", []string{"harborArtifact"}}, "have the same scope and both write to harborArtifact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r syncRegistry
			if err := r.register("a", tc.first); err != nil {
				t.Fatal(err)
			}
			err := r.register(tc.id, tc.then)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}
