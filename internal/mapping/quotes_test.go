package mapping

import (
	"context"
	"testing"
)

func TestRewriteSingleQuotes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`.name`, `.name`},
		{`'harborArtifact'`, `"harborArtifact"`},                           // Ocean: whole-value literal
		{`.name == 'prod' and .x != 'y'`, `.name == "prod" and .x != "y"`}, // Ocean: whitespace-delimited
		{`select(.a == 'b')`, `select(.a == "b")`},                         // after ( — Ocean's regex misses this
		{`"it's"`, `"it's"`},                                               // quote inside a string
		{`"don' t" + 'x'`, `"don' t" + "x"`},                               // Ocean's regex would break the first string
		{`"a \" ' b"`, `"a \" ' b"`},                                       // escaped quote inside string
		{`"\(.a + 'x')"`, `"\(.a + "x")"`},                                 // literal inside interpolation
		{`"\("'" + .a)'"`, `"\("'" + .a)'"`},                               // string in interpolation, then back in the string
		{`'say "hi"' `, `'say "hi"' `},                                     // closes after ": left alone, as Ocean does
		{`'it\'s'`, `"it's"`},                                              // escaped single quote
		{`'a\nb'`, `"a\nb"`},                                               // other escapes kept
		{`'"harborArtifact"'`, `'"harborArtifact"'`},                       // quoted twice: left for the error hint
		{`.a # it's a comment` + "\n| 'x'", `.a # it's a comment` + "\n| \"x\""},
		{`'unterminated`, `'unterminated`},
	}
	for _, tc := range tests {
		if got := rewriteSingleQuotes(tc.in); got != tc.want {
			t.Errorf("rewriteSingleQuotes(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSingleQuotedLiteralsEvaluate(t *testing.T) {
	for src, want := range map[string]any{
		`'harborArtifact'`:                              "harborArtifact",
		`.name == 'tfdemo'`:                             true,
		`"\(.name)-" + 'x'`:                             "tfdemo-x",
		`'say "hi"' | length`:                           nil, // not converted: compile error below
		`[.name, 'it\'s'] | join(" ")`:                  "tfdemo it's",
		`.metadata.public == 'false'`:                   true,
		`if .repo_count > 1 then 'many' else 'few' end`: "many",
	} {
		p, je := compileJQ(src, "")
		if want == nil {
			if je == nil {
				t.Errorf("%s: compiled, want an error", src)
			}
			continue
		}
		if je != nil {
			t.Errorf("%s: %s", src, je.msg)
			continue
		}
		v, _, err := p.run(context.Background(), items(t)["project"])
		if err != nil || v != want {
			t.Errorf("%s = %#v, %v; want %#v", src, v, err, want)
		}
	}
}
