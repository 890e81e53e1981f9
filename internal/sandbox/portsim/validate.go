package portsim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"
)

// jsLen is a string's length as JSON Schema's maxLength counts it in Port's
// (JavaScript) validator: UTF-16 code units.
func jsLen(s string) int { return len(utf16.Encode([]rune(s))) }

// validIdentifier implements ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$ (blueprints)
// and, with allowEquals, ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$ (entities)
// (internal/port/API-NOTES.md "Blueprints", "Entity identifiers"). Go's regexp has no
// lookahead, so by hand.
func validIdentifier(s string, allowEquals bool) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', unicode.IsLetter(r):
		case strings.ContainsRune("@_.+:\\/-", r):
		case r == '=' && allowEquals:
		default:
			return false
		}
	}
	return true
}

const (
	blueprintIDPattern = `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/-]+$`
	entityIDPattern    = `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$`
	propIDPattern      = `^[A-Za-z0-9@_=\-]+$`
)

var propIDRe = regexp.MustCompile(propIDPattern)

// checkBlueprintID validates a blueprint identifier at path (e.g. "body/identifier").
func checkBlueprintID(path, id string) error {
	if !validIdentifier(id, false) {
		return invalid("%s must match pattern \"%s\" (got %q)", path, blueprintIDPattern, id)
	}
	if jsLen(id) > 100 {
		return invalid("%s must NOT have more than 100 characters (got %d)", path, jsLen(id))
	}
	return nil
}

func checkEntityID(path, id string) error {
	if !validIdentifier(id, true) {
		return invalid("%s must match pattern \"%s\" (got %q)", path, entityIDPattern, id)
	}
	if jsLen(id) > 1000 {
		return invalid("%s must NOT have more than 1000 characters (got %d)", path, jsLen(id))
	}
	return nil
}

// checkPropID validates property, relation and calculated-field identifiers.
func checkPropID(path, id string) error {
	if !propIDRe.MatchString(id) {
		return invalid("%s: property name %q must match pattern \"%s\"", path, id, propIDPattern)
	}
	if jsLen(id) > 100 {
		return invalid("%s: property name %q must NOT have more than 100 characters", path, id)
	}
	return nil
}

// onlyKeys rejects keys outside allowed (additionalProperties: false).
func onlyKeys(path string, m map[string]any, allowed ...string) error {
	var extra []string
	for k := range m {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return invalid("%s must NOT have additional properties: %s (allowed: %s)", path, quoteList(extra), strings.Join(allowed, ", "))
	}
	return nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func requiredString(path string, m map[string]any, key string) (string, error) {
	v, present := m[key]
	if !present {
		return "", invalid("%s must have required property '%s'", path, key)
	}
	s, isStr := v.(string)
	if !isStr {
		return "", invalid("%s/%s must be string, got %s", path, key, jsonType(v))
	}
	return s, nil
}

// optString returns m[key] when it is a string; absent → ("", false, nil).
func optString(path string, m map[string]any, key string) (string, bool, error) {
	v, present := m[key]
	if !present {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, invalid("%s/%s must be string, got %s", path, key, jsonType(v))
	}
	return s, true, nil
}

func optObject(path string, m map[string]any, key string) (map[string]any, bool, error) {
	v, present := m[key]
	if !present {
		return nil, false, nil
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		return nil, false, invalid("%s/%s must be object, got %s", path, key, jsonType(v))
	}
	return o, true, nil
}

func optBool(path string, m map[string]any, key string, def bool) (bool, error) {
	v, present := m[key]
	if !present {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, invalid("%s/%s must be boolean, got %s", path, key, jsonType(v))
	}
	return b, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
