package mapping

import (
	"fmt"
	"regexp"
)

// ScopeProperty is the blueprint property that marks which scope an entity
// belongs to (internal/DESIGN.md "Scoped ownership"). harborport_blueprints
// adds it when asked; a scoped sync writes it on every entity and reads only
// entities carrying its scope (or none).
const ScopeProperty = "harborportScope"

// scopeRe keeps a scope usable inside Port identifiers ("<scope>:<id>",
// internal/port/API-NOTES.md "Entity identifiers") and in jq string
// literals: no ':' (it separates the prefix), no spaces, short.
var scopeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// ValidScope reports why scope cannot be an ownership scope; "" (unscoped)
// is valid.
func ValidScope(scope string) error {
	if scope == "" || scopeRe.MatchString(scope) {
		return nil
	}
	return fmt.Errorf("scope %q is not valid: use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit "+
		"(it becomes the identifier prefix \"<scope>:\")", scope)
}
