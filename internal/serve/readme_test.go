package serve

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// README.md's table of `serve` flags must match the flags: every flag, its
// environment variable and its default, and no flag that does not exist.
func TestReadmeServeFlags(t *testing.T) {
	var help bytes.Buffer
	if _, err := Parse([]string{"--help"}, func(string) string { return "" }, &help); !errors.Is(err, errFlagHelp) {
		t.Fatalf("--help: %v", err)
	}
	type flagInfo struct{ env, def string }
	flags := map[string]flagInfo{}
	envRe := regexp.MustCompile(`\b(HARBORPORT_[A-Z_]+)\b`)
	defRe := regexp.MustCompile(`\(default "([^"]*)"\)`)
	var cur string
	for _, line := range strings.Split(help.String(), "\n") {
		if m := regexp.MustCompile(`^  -([a-z-]+)`).FindStringSubmatch(line); m != nil {
			cur = m[1]
			flags[cur] = flagInfo{}
			continue
		}
		if cur == "" {
			continue
		}
		fi := flags[cur]
		if m := envRe.FindStringSubmatch(line); m != nil {
			fi.env = m[1]
		}
		if m := defRe.FindStringSubmatch(line); m != nil {
			fi.def = m[1]
		}
		flags[cur] = fi
	}
	if len(flags) < 10 {
		t.Fatalf("parsed only %d flags from --help:\n%s", len(flags), help.String())
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	rowRe := regexp.MustCompile("^\\| (`--[a-z-]+`(?:, `--[a-z-]+`)*) \\| ([^|]*) \\| ([^|]*) \\|$")
	for _, line := range strings.Split(string(readme), "\n") {
		m := rowRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		names := regexp.MustCompile("`--([a-z-]+)`").FindAllStringSubmatch(m[1], -1)
		envs := envRe.FindAllString(m[2], -1)
		for i, n := range names {
			name := n[1]
			fi, ok := flags[name]
			if !ok {
				t.Errorf("README names --%s, which serve does not have", name)
				continue
			}
			seen[name] = true
			var env string
			if len(envs) == len(names) {
				env = envs[i]
			} else if len(envs) > 0 {
				env = envs[0]
			}
			if env != fi.env {
				t.Errorf("README: --%s reads %q, serve reads %q", name, env, fi.env)
			}
			if fi.def != "" && !strings.Contains(m[3], "`"+fi.def+"`") {
				t.Errorf("README: --%s default column %q lacks `%s`", name, m[3], fi.def)
			}
		}
	}
	for name := range flags {
		if !seen[name] {
			t.Errorf("README's serve table lacks --%s", name)
		}
	}
}
