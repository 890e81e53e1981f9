package harborsim

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	// projectNameRe: Harbor project names are lowercase alphanumerics separated by single
	// '.', '_' or '-' (portal/API validation, src/common/utils: `^[a-z0-9]+(?:[._-][a-z0-9]+)*$`),
	// 1-255 characters. No unicode.
	projectNameRe = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	// repoComponentRe is the path-component grammar of github.com/distribution/reference
	// (regexp.go: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`), which Harbor's registry front end
	// enforces on push; repository names are therefore lowercase ASCII only — no unicode.
	repoComponentRe = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)
	// tagRe is the distribution/reference tag grammar `[\w][\w.-]{0,127}` (ASCII word chars).
	tagRe    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRe = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

func validateProjectName(name string) error {
	if len(name) > 255 || !projectNameRe.MatchString(name) {
		return fmt.Errorf("invalid project name %q: use lowercase letters, digits and single '.', '_' or '-' between them (max 255 chars)", name)
	}
	return nil
}

// validateRepoName checks the repository name relative to its project ("team/app").
func validateRepoName(project, repo string) error {
	if repo == "" {
		return fmt.Errorf("empty repository name in project %q", project)
	}
	if len(project)+1+len(repo) > 255 {
		return fmt.Errorf("repository name %s/%s is longer than 255 characters", project, repo)
	}
	for _, c := range strings.Split(repo, "/") {
		if !repoComponentRe.MatchString(c) {
			return fmt.Errorf("invalid repository name %q: component %q must be lowercase letters/digits separated by '.', '_', '__' or '-' (distribution reference grammar)", repo, c)
		}
	}
	return nil
}

func validateTag(tag string) error {
	if !tagRe.MatchString(tag) {
		return fmt.Errorf("invalid tag %q: must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag)
	}
	return nil
}

func validateDigest(d string) error {
	if !digestRe.MatchString(d) {
		return fmt.Errorf("invalid digest %q: want sha256: followed by 64 lowercase hex characters", d)
	}
	return nil
}
