package listener

import (
	"fmt"
	"regexp"
	"strings"
)

// Names in a delivery become spool keys and Harbor API paths, so they are
// checked against the grammar Harbor itself enforces before anything is
// stored: a name Harbor could never have sent is a forged or corrupted
// delivery, refused with 400 naming the field.
var (
	// A repository is path components separated by '/'; a project is the
	// first one. distribution/reference v0.5.0 reference.go:
	// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+.
	// (Harbor's project rule, ^[a-z0-9]+(?:[._-][a-z0-9]+)*$, is a subset.)
	pathComponentRe = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	// OCI image-spec, https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md#digests: algorithm ":"
	// encoded.
	digestRe = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
	// distribution/reference: tag := [\w][\w.-]{0,127}.
	tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

func checkProject(field, name string) error {
	if !pathComponentRe.MatchString(name) {
		return bad("%s %q is not a Harbor project name (lowercase letters and digits, separated by '.', '_' or '-')", field, name)
	}
	return nil
}

// checkRepository checks a full repository name "project/repo[/more]".
func checkRepository(field, full string) error {
	parts := strings.Split(full, "/")
	if len(parts) < 2 {
		return bad("%s %q has no project prefix: Harbor repository names are \"<project>/<name>\"", field, full)
	}
	for _, p := range parts {
		if !pathComponentRe.MatchString(p) {
			return bad("%s %q is not a repository name: component %q breaks the distribution grammar", field, full, p)
		}
	}
	return nil
}

func isDigest(s string) bool { return digestRe.MatchString(s) }
func isTag(s string) bool    { return tagRe.MatchString(s) }

// ErrBadPayload wraps every reason a body is refused (answered 400).
var ErrBadPayload = fmt.Errorf("bad webhook payload")

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, a...))
}

// Name checks for other event sources (the audit-log feed), with the grammar
// deliveries are checked against.

// ValidProject reports whether name is a Harbor project name.
func ValidProject(name string) bool { return pathComponentRe.MatchString(name) }

// ValidRepository reports whether full is a repository name "project/repo[/more]".
func ValidRepository(full string) bool { return checkRepository("", full) == nil }

// IsDigest reports whether s is a digest (algorithm:encoded).
func IsDigest(s string) bool { return isDigest(s) }

// IsTag reports whether s is a tag.
func IsTag(s string) bool { return isTag(s) }
