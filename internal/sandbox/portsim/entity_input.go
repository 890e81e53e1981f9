package portsim

// Route-level validation of entity bodies: the JSON schema of
// POST /v1/blueprints/{bp}/entities, its bulk items and PATCH
// (internal/port/API-NOTES.md "Writing entities"). Failing it rejects the whole
// request with 422, bulk included.

// optStr is a string field that may be absent, null (PATCH only) or set.
type optStr struct {
	present bool
	val     *string
}

type entityInput struct {
	id      string         // "" when absent (Port generates one) or a query
	idQuery map[string]any // "map by property" identifier (internal/port/API-NOTES.md "Search queries in identifiers and relations")
	title   optStr
	icon    optStr
	team    *[]string // nil when absent
	props   map[string]any
	hasProp bool
	rels    map[string]any
	hasRels bool
}

// parseEntityInput checks raw against the route schema. patch selects the
// PATCH body (additionalProperties false, nullable title/icon/team).
func parseEntityInput(path string, raw map[string]any, patch bool) (*entityInput, error) {
	in := &entityInput{}
	if patch {
		if err := onlyKeys(path, raw, "identifier", "title", "icon", "team", "properties", "relations"); err != nil {
			return nil, err
		}
	}
	switch id := raw["identifier"].(type) {
	case nil:
		if _, present := raw["identifier"]; present {
			return nil, invalid("%s/identifier must be string or a search query object, got null", path)
		}
	case string:
		if err := checkEntityID(path+"/identifier", id); err != nil {
			return nil, err
		}
		in.id = id
	case map[string]any:
		if patch {
			return nil, invalid("%s/identifier must be string, got object", path)
		}
		if _, err := compileQuery(path+"/identifier", id, identifierQuery); err != nil {
			return nil, err
		}
		in.idQuery = id
	default:
		return nil, invalid("%s/identifier must be string or a search query object, got %s", path, jsonType(id))
	}
	for _, f := range []struct {
		key string
		dst *optStr
	}{{"title", &in.title}, {"icon", &in.icon}} {
		v, present := raw[f.key]
		if !present {
			continue
		}
		f.dst.present = true
		switch t := v.(type) {
		case string:
			f.dst.val = &t
		case nil:
			if !patch {
				return nil, invalid("%s/%s must be string, got null", path, f.key)
			}
		default:
			return nil, invalid("%s/%s must be string, got %s", path, f.key, jsonType(v))
		}
	}
	if v, present := raw["team"]; present {
		team := []string{}
		switch t := v.(type) {
		case string:
			team = append(team, t)
		case nil:
			if !patch {
				return nil, invalid("%s/team must be string, array of strings or a search query, got null", path)
			}
		case []any:
			for i, x := range t {
				s, isStr := x.(string)
				if !isStr {
					return nil, invalid("%s/team/%d must be string, got %s", path, i, jsonType(x))
				}
				team = append(team, s)
			}
		case map[string]any:
			return nil, invalid("%s/team: team search queries are valid in Port but not implemented by portsim; send team names", path)
		default:
			return nil, invalid("%s/team must be string, array of strings or a search query, got %s", path, jsonType(v))
		}
		in.team = &team
	}
	if v, present := raw["properties"]; present {
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, invalid("%s/properties must be object, got %s", path, jsonType(v))
		}
		if patch {
			for _, k := range sortedKeys(m) {
				if !propIDRe.MatchString(k) {
					return nil, invalid("%s/properties: property name %q must match pattern \"%s\"", path, k, propIDPattern)
				}
			}
		}
		in.props, in.hasProp = m, true
	}
	if v, present := raw["relations"]; present {
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, invalid("%s/relations must be object, got %s", path, jsonType(v))
		}
		for _, k := range sortedKeys(m) {
			rp := path + "/relations/" + k
			switch t := m[k].(type) {
			case nil:
			case string:
				if err := checkEntityID(rp, t); err != nil {
					return nil, err
				}
			case []any:
				for i, x := range t {
					s, isStr := x.(string)
					if !isStr {
						return nil, invalid("%s/%d must be string, got %s", rp, i, jsonType(x))
					}
					if !validIdentifier(s, true) {
						return nil, invalid("%s/%d must match pattern \"%s\" (got %q)", rp, i, entityIDPattern, s)
					}
				}
			case map[string]any:
				if _, err := compileQuery(rp, t, relationQuery); err != nil {
					return nil, err
				}
			default:
				return nil, invalid("%s must be string, array of strings, null or a search query, got %s", rp, jsonType(t))
			}
		}
		in.rels, in.hasRels = m, true
	}
	return in, nil
}
