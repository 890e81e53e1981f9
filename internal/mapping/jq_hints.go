package mapping

import (
	"errors"
	"regexp"
	"strings"

	"github.com/itchyny/gojq"
)

// `X in [a, b]` is not jq (the seed's "Multi-Project Syncing" example uses
// it); jq's in/1 takes an object or array as its argument and tests keys.
var infixInRe = regexp.MustCompile(`([^\s()]+)\s+in\s*\[([^\]]*)\]`)

var bareWordRe = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*$`)

// syntaxHint suggests a fix for a jq parse error.
func syntaxHint(src, text string, err error) string {
	if m := infixInRe.FindStringSubmatch(text); m != nil {
		lhs, list := m[1], strings.TrimSpace(m[2])
		return `jq has no "x in [list]" operator; write IN(` + lhs + `; ` + list + `) or [` + lhs + `] | inside([` + list + `])`
	}
	var pe *gojq.ParseError
	if errors.As(err, &pe) && pe.Token == "in" {
		return `jq has no infix "in" operator; to test membership write IN(value; a, b, c)`
	}
	if strings.Contains(text, "'") {
		if strings.Contains(src, `'"`) || strings.Contains(src, `"'`) {
			return `the expression is quoted twice: in YAML write '"text"' (the outer single quotes are YAML's and are removed before jq sees it); in JSON write "\"text\""`
		}
		return `jq string literals use double quotes: "text"`
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unterminated string"):
		return `a closing double quote is missing; in YAML wrap the whole expression in single quotes, e.g. '"harborArtifact"'`
	case msg == "unexpected EOF":
		return "the expression ends too early: look for a trailing |, and, or, or an unclosed ( [ {"
	}
	return "see the jq manual, https://jqlang.org/manual/"
}

// compileHint suggests a fix for a jq compile error (unknown function or
// variable, forbidden input access).
func compileHint(text string, err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "function not defined: "):
		if m := bareWordRe.FindStringSubmatch(text); m != nil {
			return `jq reads a bare word as a function call; for the string "` + m[1] + `" quote it, e.g. '"` + m[1] + `"' in YAML`
		}
		for _, name := range []string{"input_filename/", "debug/", "stderr/", "input_line_number/", "get_search_list/"} {
			if strings.Contains(msg, name) {
				return "mappings only see the Harbor item they are given; this builtin is not available"
			}
		}
		return "check the spelling; gojq implements jq 1.7's builtins (differences: https://github.com/itchyny/gojq#difference-to-jq)"
	case strings.Contains(msg, "input(s)/0 is not allowed"):
		return "a mapping sees one Harbor item at a time, as `.`; input and inputs are not available"
	case strings.HasPrefix(msg, "variable not defined: "):
		return "only variables bound with `as` exist ($ENV is always empty: mappings must not read the environment)"
	}
	return ""
}
