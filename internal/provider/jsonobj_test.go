package provider

// objAt walks nested JSON objects along keys (none: v itself). ok is false
// when a step is missing or not an object.
func objAt(v any, keys ...string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	for _, k := range keys {
		if !ok {
			return nil, false
		}
		m, ok = m[k].(map[string]any)
	}
	return m, ok
}
