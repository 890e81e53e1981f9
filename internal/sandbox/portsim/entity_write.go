package portsim

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Blueprint-level validation and writes of entities (internal/port/API-NOTES.md
// "Writing entities").

type writeOpts struct {
	upsert         bool // overwrite an existing entity (required query param)
	merge          bool // with upsert (or PATCH): merge properties/relations
	createMissing  bool // create_missing_related_entities: stub missing relation targets
	validationOnly bool
	patch          bool // PATCH semantics: entity must exist, fields merge
}

// writeEntity validates in against bp and stores it. path prefixes error
// locations (e.g. "body" or "body/entities/3"). Caller holds s.mu.
func (s *Server) writeEntity(bp *bpRec, in *entityInput, o writeOpts, path string, now time.Time, actor string) (*entity, bool, error) {
	bpID := bp.spec.id
	id := in.id
	if in.idQuery != nil {
		q, err := compileQuery(path+"/identifier", in.idQuery, identifierQuery)
		if err == nil {
			err = q.check(bp)
		}
		if err != nil {
			return nil, false, err
		}
		matches := s.matchIn(bp, q, 2)
		switch len(matches) {
		case 0:
			// internal/port/API-NOTES.md "Search queries in identifiers and relations":
			// "No match → no entity is created".
			return nil, false, notFound("%s/identifier: the search query matched no entity of blueprint %q", path, bpID)
		case 1:
			id = matches[0]
		default:
			return nil, false, invalid("%s/identifier: the search query matched more than one entity of blueprint %q; it must match exactly one", path, bpID)
		}
	}
	if id == "" {
		id = s.generateID()
	}
	old := bp.ents[id]
	switch {
	case o.patch && old == nil:
		return nil, false, entityNotFound(bpID, id)
	case !o.patch && old != nil && !o.upsert:
		return nil, false, taken("Entity with identifier %q already exists in blueprint %q; send upsert=true to overwrite or merge it", id, bpID)
	}

	merge := old != nil && (o.merge || o.patch)
	e := &entity{id: id, props: map[string]any{}, rels: map[string]any{}, team: []string{}, createdAt: now, createdBy: actor}
	if old != nil {
		e.createdAt, e.createdBy = old.createdAt, old.createdBy
	}
	if merge {
		e.title, e.icon, e.team = old.title, old.icon, old.team
		e.props, e.rels = deepCopy(old.props), deepCopy(old.rels)
	}
	if in.title.present {
		e.title = in.title.val
	}
	if in.icon.present {
		e.icon = in.icon.val
	}
	if in.team != nil {
		e.team = *in.team
	}

	for _, k := range sortedKeys(in.props) {
		v := in.props[k]
		if err := checkPropValue(bp, path+"/properties/"+k, k, v); err != nil {
			return nil, false, err
		}
		e.props[k] = deepCopyValue(v)
	}
	var stubs []entKey
	for _, k := range sortedKeys(in.rels) {
		rp := path + "/relations/" + k
		v, missing, err := s.checkRelValue(bp, rp, k, in.rels[k], o.createMissing)
		if err != nil {
			return nil, false, err
		}
		stubs = append(stubs, missing...)
		e.rels[k] = v
	}
	for _, p := range bp.spec.required {
		if v, has := e.props[p]; !has || v == nil {
			return nil, false, invalid("%s/properties must have required property '%s' (required by blueprint %q)", path, p, bpID)
		}
	}
	for _, rid := range sortedKeys(bp.spec.relations) {
		if bp.spec.relations[rid].required && isEmpty(e.rels[rid]) {
			return nil, false, invalid("%s/relations must have required relation '%s' (required by blueprint %q)", path, rid, bpID)
		}
	}
	e.updatedAt, e.updatedBy = now, actor
	if o.validationOnly {
		return e, old == nil, nil
	}
	for _, k := range stubs {
		tb := s.st.bps[k.bp]
		if tb.ents[k.id] == nil {
			s.st.put(tb, &entity{id: k.id, props: map[string]any{}, rels: map[string]any{}, team: []string{},
				createdAt: now, createdBy: actor, updatedAt: now, updatedBy: actor})
		}
	}
	s.st.put(bp, e)
	return e, old == nil, nil
}

func (s *Server) generateID() string {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return fmt.Sprintf("e_%012x", s.rng.Uint64()&0xffffffffffff)
}

// matchIn returns up to limit identifiers of bp matching q, in order.
func (s *Server) matchIn(bp *bpRec, q *group, limit int) []string {
	var out []string
	x := &evalCtx{st: s.st, bp: bp}
	ids, direct := q.identifierCandidates()
	if !direct {
		ids = bp.idx.ids(bp.ents)
	}
	for _, id := range ids {
		e := bp.ents[id]
		if e == nil {
			continue
		}
		x.e = e
		if q.match(x) {
			out = append(out, id)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out
}

// checkPropValue validates one property value against the blueprint schema.
func checkPropValue(bp *bpRec, path, key string, v any) error {
	ps := bp.spec.props[key]
	if ps == nil {
		for _, group := range []string{"calculationProperties", "mirrorProperties", "aggregationProperties"} {
			if m, _ := bp.def[group].(map[string]any); m[key] != nil {
				return invalid("%s: %q is one of blueprint %q's %s, which Port computes; remove it from properties", path, key, bp.spec.id, group)
			}
		}
		return invalid("%s: blueprint %q has no property %q (known: %s)", path, bp.spec.id, key, strings.Join(sortedKeys(bp.spec.props), ", "))
	}
	if v == nil {
		return nil // null clears a property (Ocean sends null for failed mappings)
	}
	if !valueHasType(v, ps.typ) {
		return invalid("%s must be %s, got %s (%s)", path, ps.typ, jsonType(v), describe(v))
	}
	if err := checkFormat(path, ps.format, v); err != nil {
		return err
	}
	if len(ps.enum) > 0 && !slices.ContainsFunc(ps.enum, func(x any) bool { return jsonEqual(x, v) }) {
		return invalid("%s must be equal to one of the allowed values %v, got %s", path, ps.enum, describe(v))
	}
	switch t := v.(type) {
	case string:
		if ps.minLen != nil && float64(jsLen(t)) < *ps.minLen {
			return invalid("%s must NOT have fewer than %v characters", path, *ps.minLen)
		}
		if ps.maxLen != nil && float64(jsLen(t)) > *ps.maxLen {
			return invalid("%s must NOT have more than %v characters", path, *ps.maxLen)
		}
		if ps.pattern != nil && !ps.pattern.MatchString(t) {
			return invalid("%s must match pattern %q, got %s", path, ps.pattern.String(), describe(t))
		}
	case float64:
		if ps.minimum != nil && t < *ps.minimum {
			return invalid("%s must be >= %v, got %v", path, *ps.minimum, t)
		}
		if ps.maximum != nil && t > *ps.maximum {
			return invalid("%s must be <= %v, got %v", path, *ps.maximum, t)
		}
	case []any:
		if ps.minItems != nil && float64(len(t)) < *ps.minItems {
			return invalid("%s must NOT have fewer than %v items", path, *ps.minItems)
		}
		if ps.maxItems != nil && float64(len(t)) > *ps.maxItems {
			return invalid("%s must NOT have more than %v items", path, *ps.maxItems)
		}
		for i, item := range t {
			ip := fmt.Sprintf("%s/%d", path, i)
			if ps.itemType != "" && !valueHasType(item, ps.itemType) {
				return invalid("%s must be %s, got %s (%s)", ip, ps.itemType, jsonType(item), describe(item))
			}
			if err := checkFormat(ip, ps.itemFormat, item); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFormat applies the string formats the blueprint schema allows.
func checkFormat(path, format string, v any) error {
	s, isStr := v.(string)
	if format == "" || !isStr {
		return nil
	}
	bad := false
	switch format {
	case "date-time", "timer":
		_, err := time.Parse(time.RFC3339Nano, s)
		bad = err != nil
	case "email", "idn-email", "user":
		a, err := mail.ParseAddress(s)
		bad = err != nil || a.Address != s
	case "url":
		// ajv-formats "url": an absolute http(s)/ftp URL with a host.
		u, err := url.Parse(s)
		bad = err != nil || u.Host == "" || !slices.Contains([]string{"http", "https", "ftp"}, strings.ToLower(u.Scheme))
	case "ipv4":
		ip := net.ParseIP(s)
		bad = ip == nil || ip.To4() == nil || strings.Contains(s, ":")
	case "ipv6":
		ip := net.ParseIP(s)
		bad = ip == nil || !strings.Contains(s, ":")
	}
	if bad {
		return invalid("%s must match format %q, got %s", path, format, describe(s))
	}
	return nil
}

// checkRelValue validates one relation value and resolves search queries.
// It returns the value to store and the targets to create as stubs.
func (s *Server) checkRelValue(bp *bpRec, path, key string, v any, createMissing bool) (any, []entKey, error) {
	rs, known := bp.spec.relations[key]
	if !known {
		return nil, nil, invalid("%s: blueprint %q has no relation %q (known: %s)", path, bp.spec.id, key, strings.Join(sortedKeys(bp.spec.relations), ", "))
	}
	tb := s.st.bps[rs.target]
	if tb == nil {
		return nil, nil, blueprintNotFound(rs.target)
	}
	var ids []string
	switch t := v.(type) {
	case nil:
		return nil, nil, nil
	case string:
		if rs.many {
			// INFERRED: a many relation takes an array.
			return nil, nil, invalid("%s: relation %q is many=true; send an array of identifiers, got string %s", path, key, describe(t))
		}
		ids = []string{t}
	case []any:
		if !rs.many {
			return nil, nil, invalid("%s: relation %q is many=false; send one identifier string (or null), got an array", path, key)
		}
		ids = relIDs(t)
	case map[string]any:
		q, err := compileQuery(path, t, relationQuery)
		if err == nil {
			// The query runs against the relation's target blueprint.
			err = q.check(tb)
		}
		if err != nil {
			return nil, nil, err
		}
		// internal/port/API-NOTES.md "Search queries in identifiers and relations": at
		// most 100 matches; a single relation needs exactly one.
		ids = s.matchIn(tb, q, 101)
		switch {
		case !rs.many && len(ids) != 1:
			return nil, nil, notFound("%s: the search query must match exactly one entity of blueprint %q, matched %d", path, rs.target, len(ids))
		case len(ids) > 100:
			return nil, nil, invalid("%s: the search query matched more than 100 entities of blueprint %q", path, rs.target)
		}
	}
	var missing []entKey
	for _, id := range ids {
		if tb.ents[id] == nil {
			if !createMissing {
				// Ocean reads 404 not_found here as an unmet dependency
				// (internal/port/API-NOTES.md "Errors").
				return nil, nil, notFound("%s: related entity %q of blueprint %q was not found; create it first or send create_missing_related_entities=true", path, id, rs.target)
			}
			missing = append(missing, entKey{rs.target, id})
		}
	}
	if rs.many {
		out := make([]any, len(ids))
		for i, id := range ids {
			out[i] = id
		}
		return out, missing, nil
	}
	return ids[0], missing, nil
}
