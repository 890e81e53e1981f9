package jsonvalue

// DecodeList decodes a JSON array of objects (or null: no objects), keeping
// of each object only the keys keep accepts (keep nil: all). The values of
// the other keys are checked for syntax and skipped without being built, so
// a listing whose items are mostly unused costs a fraction of a full
// decode. An element that is null is a nil map; any other non-object
// element is an error, as decoding into []map[string]any with encoding/json.
func DecodeList(data []byte, keep func(key string) bool) ([]map[string]any, error) {
	d, _ := pool.Get().(*decoder)
	if d == nil {
		d = &decoder{keys: map[string]string{}}
	}
	defer func() {
		d.data = nil
		pool.Put(d)
	}()
	d.data, d.pos = data, 0
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == 'n' {
		if _, err := d.literal("null", nil); err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos < len(d.data) {
			return nil, d.syntax("after top-level value")
		}
		return nil, nil
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return nil, &SyntaxError{Msg: "expected a JSON array", Offset: d.pos}
	}
	d.pos++
	out := make([]map[string]any, 0, 16)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
	} else {
		for {
			if d.pos >= len(d.data) {
				return nil, d.syntax("looking for beginning of value")
			}
			switch d.data[d.pos] {
			case '{':
				v, err := d.object(2, keep)
				if err != nil {
					return nil, err
				}
				m, _ := v.(map[string]any)
				out = append(out, m)
			case 'n':
				if _, err := d.literal("null", nil); err != nil {
					return nil, err
				}
				out = append(out, nil)
			default:
				return nil, &SyntaxError{Msg: "expected a JSON object in the array", Offset: d.pos}
			}
			d.skipSpace()
			if d.pos >= len(d.data) {
				return nil, d.syntax("after array element")
			}
			if d.data[d.pos] == ']' {
				d.pos++
				break
			}
			if d.data[d.pos] != ',' {
				return nil, d.syntax("after array element")
			}
			d.pos++
			d.skipSpace()
		}
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.syntax("after top-level value")
	}
	return out, nil
}

// skip checks one value's syntax, as value would, without building it.
func (d *decoder) skip(depth int) error {
	if d.pos >= len(d.data) {
		return d.syntax("looking for beginning of value")
	}
	switch c := d.data[d.pos]; {
	case c == '{' || c == '[':
		if depth+1 > maxDepth {
			return &SyntaxError{Msg: "exceeded max depth", Offset: d.pos}
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		d.pos++
		d.skipSpace()
		if d.pos < len(d.data) && d.data[d.pos] == closing {
			d.pos++
			return nil
		}
		for {
			if c == '{' {
				if d.pos >= len(d.data) || d.data[d.pos] != '"' {
					return d.syntax("looking for beginning of object key string")
				}
				if err := d.skipString(); err != nil {
					return err
				}
				d.skipSpace()
				if d.pos >= len(d.data) || d.data[d.pos] != ':' {
					return d.syntax("after object key")
				}
				d.pos++
				d.skipSpace()
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.skipSpace()
			if d.pos >= len(d.data) {
				return d.syntax("after element")
			}
			switch d.data[d.pos] {
			case ',':
				d.pos++
				d.skipSpace()
			case closing:
				d.pos++
				return nil
			default:
				return d.syntax("after element")
			}
		}
	case c == '"':
		return d.skipString()
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := d.number()
		return err
	case c == 't':
		_, err := d.literal("true", true)
		return err
	case c == 'f':
		_, err := d.literal("false", false)
		return err
	case c == 'n':
		_, err := d.literal("null", nil)
		return err
	}
	return d.syntax("looking for beginning of value")
}

// skipString checks a string's syntax (escapes, no control characters)
// without decoding it.
func (d *decoder) skipString() error {
	i := d.pos + 1
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(d.data) {
				d.pos = i + 1
				return d.syntax("in string escape code")
			}
			switch d.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(d.data, i+2); !ok {
					d.pos = i + 2
					for j := 0; j < 4 && d.pos < len(d.data) && isHex(d.data[d.pos]); j++ {
						d.pos++
					}
					return d.syntax("in \\u hexadecimal character escape")
				}
				i += 6
			default:
				d.pos = i + 1
				return d.syntax("in string escape code")
			}
		case c < 0x20:
			d.pos = i
			return d.syntax("in string literal")
		default:
			i++
		}
	}
	d.pos = i
	return d.syntax("in string literal")
}
