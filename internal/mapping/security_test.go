package mapping

import (
	"strings"
	"testing"
)

// A mapping must never read the process environment: it holds the Harbor
// password and the Port client secret (internal/DESIGN.md "Mappings"; Ocean's
// `def env: {}; {} as $ENV |`, internal/port/API-NOTES.md "Ocean's jq rules").
func TestEnvironmentIsInvisible(t *testing.T) {
	const secret = "s3cr3t-port-client-secret"
	t.Setenv("PORT_CLIENT_SECRET", secret)
	t.Setenv("HOME", "/home/secret-"+secret)
	for src, want := range map[string]string{
		`env.HOME`:                   "null",
		`$ENV.PATH`:                  "null",
		`$ENV.PORT_CLIENT_SECRET`:    "null",
		`env | keys`:                 "[]",
		`$ENV | length`:              "0",
		`"\(env)\($ENV)"`:            `"{}{}"`,
		`[env[]] | length`:           "0",
		`def env: 1; env`:            "1", // redefining is harmless: still no environment
		`{} as $x | $ENV | tostring`: `"{}"`,
	} {
		r := mustParse(t, resource("project", "query: 'true'", minimalMappings+"properties:\n  v: '"+strings.ReplaceAll(src, "'", "''")+"'\n")).Resources[0]
		es, ws := r.Map(items(t)["project"])
		got := jsonOf(es[0].Properties["v"])
		if got != want || len(ws) != 0 {
			t.Errorf("%s = %s (warnings %s), want %s", src, got, warningsText(ws), want)
		}
		if strings.Contains(entityJSON(t, es[0]), secret) {
			t.Errorf("%s leaked the environment", src)
		}
	}
	// Selectors too.
	r := mustParse(t, resource("project", `query: 'env.PORT_CLIENT_SECRET == null and $ENV == {}'`, minimalMappings)).Resources[0]
	if ok, err := r.Select(items(t)["project"]); !ok || err != nil {
		t.Errorf("selector saw the environment: %v %v", ok, err)
	}
}

// Nothing but the item is readable: no other inputs, files, modules, or
// debug channels. Each is refused at parse time, with a hint.
func TestNoOtherInputs(t *testing.T) {
	tests := map[string]string{
		`input`:                       "input(s)/0 is not allowed",
		`[inputs]`:                    "input(s)/0 is not allowed",
		`input_filename`:              "function not defined: input_filename/0",
		`$__loc__`:                    "variable not defined: $__loc__",
		`debug`:                       "function not defined: debug/0",
		`debug("x")`:                  "function not defined: debug/1",
		`stderr`:                      "function not defined: stderr/0",
		`input_line_number`:           "function not defined: input_line_number/0",
		`$__prog_args`:                "variable not defined: $__prog_args",
		`import "etc/passwd" as p; .`: "import, include and module are not supported",
		`include "x"; .`:              "import, include and module are not supported",
		`module {a: 1}; .`:            "import, include and module are not supported",
		`getpath(["a"]) | $HOME`:      "variable not defined: $HOME",
	}
	for src, want := range tests {
		got := parseErr(t, resource("project", "query: 'true'", minimalMappings+"title: '"+strings.ReplaceAll(src, "'", "''")+"'\n"))
		if !strings.Contains(got, want) || !strings.Contains(got, "(hint: ") {
			t.Errorf("%s: %s\nwant it to contain %q and a hint", src, got, want)
		}
	}
}
