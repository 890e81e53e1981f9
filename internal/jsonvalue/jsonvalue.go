// Package jsonvalue decodes JSON into the generic values encoding/json's
// Unmarshal gives an `any` — map[string]any, []any, string, float64, bool
// and nil — with the same results for every input, in one pass and with
// fewer allocations. Harbor's listings and Port's search pages are decoded
// this way on every plan; encoding/json validated each document before
// decoding it and went through reflection, which made decoding the largest
// CPU cost of a no-op plan (internal/catalog/BENCHMARKS.md).
//
// Equivalence with encoding/json (checked by the tests and FuzzDecode):
// objects keep the last of duplicate keys; strings decode the escapes
// encoding/json knows, replace invalid UTF-8 and lone surrogates with
// U+FFFD, and refuse control characters; numbers follow JSON's grammar and
// are parsed with strconv.ParseFloat (a number beyond float64's range is an
// error, as it is for encoding/json); whitespace is JSON's four characters;
// nesting deeper than 10000 is refused; anything after the value but
// whitespace is an error.
package jsonvalue

import (
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// Decode parses data as one JSON value.
func Decode(data []byte) (any, error) {
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
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.syntax("after top-level value")
	}
	return v, nil
}

// pool keeps decoders: their interned keys (the same few dozen in every
// Harbor item) and scratch buffer outlive one document.
var pool sync.Pool

// SyntaxError is a malformed document, with the byte offset of the problem.
type SyntaxError struct {
	Msg    string
	Offset int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

type decoder struct {
	data  []byte
	pos   int
	keys  map[string]string // object keys repeat in every item of a listing: one string each
	buf   []byte            // scratch for strings with escapes
	sizes [8]int            // the last object's size per depth: the items of a listing share a shape
}

func (d *decoder) syntax(what string) error {
	if d.pos >= len(d.data) {
		return &SyntaxError{Msg: "unexpected end of input", Offset: d.pos}
	}
	return &SyntaxError{Msg: fmt.Sprintf("invalid character %q %s", d.data[d.pos], what), Offset: d.pos}
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.syntax("looking for beginning of value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth+1, nil)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str(false)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	}
	return nil, d.syntax("looking for beginning of value")
}

func (d *decoder) literal(word string, v any) (any, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		// Point at the first byte that differs, as a scanner would.
		for i := 0; i < len(word); i++ {
			if d.pos+i >= len(d.data) || d.data[d.pos+i] != word[i] {
				d.pos += i
				return nil, d.syntax("in literal " + word)
			}
		}
	}
	d.pos += len(word)
	return v, nil
}

// object decodes the object at d.pos. With keep, the values of the keys it
// refuses are only checked (skip), not built (DecodeList's pruning).
func (d *decoder) object(depth int, keep func(string) bool) (any, error) {
	if depth > maxDepth {
		return nil, &SyntaxError{Msg: "exceeded max depth", Offset: d.pos}
	}
	d.pos++ // {
	hint := 0
	if depth < len(d.sizes) {
		hint = d.sizes[depth]
	}
	m := make(map[string]any, hint)
	defer func() {
		if depth < len(d.sizes) {
			d.sizes[depth] = len(m)
		}
	}()
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.syntax("looking for beginning of object key string")
		}
		kv, err := d.str(true)
		if err != nil {
			return nil, err
		}
		key, _ := kv.(string)
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.syntax("after object key")
		}
		d.pos++
		d.skipSpace()
		if keep == nil || keep(key) {
			v, err := d.value(depth)
			if err != nil {
				return nil, err
			}
			m[key] = v
		} else if err := d.skip(depth); err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.syntax("after object key:value pair")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.syntax("after object key:value pair")
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, &SyntaxError{Msg: "exceeded max depth", Offset: d.pos}
	}
	d.pos++ // [
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.syntax("after array element")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			return a, nil
		default:
			return nil, d.syntax("after array element")
		}
	}
}

// str decodes a string at d.pos (the opening quote). Keys are interned.
func (d *decoder) str(key bool) (any, error) {
	start := d.pos + 1
	i := start
	// Fast path: printable ASCII without escapes.
	for i < len(d.data) {
		c := d.data[i]
		if c == '"' {
			raw := d.data[start:i]
			d.pos = i + 1
			if key {
				if s, ok := d.keys[string(raw)]; ok {
					return s, nil
				}
				s := string(raw)
				if len(d.keys) < 4096 {
					d.keys[s] = s
				}
				return s, nil
			}
			return string(raw), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	return d.strSlow(start, i)
}

// strSlow continues a string with escapes, control characters or non-ASCII
// bytes, as encoding/json's unquote does.
func (d *decoder) strSlow(start, i int) (any, error) {
	b := append(d.buf[:0], d.data[start:i]...)
	for {
		if i >= len(d.data) {
			d.pos = i
			return nil, d.syntax("in string literal")
		}
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = b[:0]
			return string(b), nil
		case c == '\\':
			if i+1 >= len(d.data) {
				d.pos = i + 1
				return nil, d.syntax("in string escape code")
			}
			switch e := d.data[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				i += 2
			case 'b':
				b = append(b, '\b')
				i += 2
			case 'f':
				b = append(b, '\f')
				i += 2
			case 'n':
				b = append(b, '\n')
				i += 2
			case 'r':
				b = append(b, '\r')
				i += 2
			case 't':
				b = append(b, '\t')
				i += 2
			case 'u':
				r, ok := hex4(d.data, i+2)
				if !ok {
					d.pos = i + 2
					for j := 0; j < 4 && d.pos < len(d.data) && isHex(d.data[d.pos]); j++ {
						d.pos++
					}
					return nil, d.syntax("in \\u hexadecimal character escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A pair gives one rune; a lone half is U+FFFD, and the
					// next escape is read on its own (encoding/json).
					if r2, ok2 := hex4(d.data, i+2); ok2 && i+1 < len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							i += 6
							b = utf8.AppendRune(b, dec)
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				d.pos = i + 1
				return nil, d.syntax("in string escape code")
			}
		case c < 0x20:
			d.pos = i
			return nil, d.syntax("in string literal")
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d.data[i:i+size]...)
			}
			i += size
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number scans JSON's number grammar and parses it as encoding/json does.
func (d *decoder) number() (any, error) {
	start := d.pos
	i := d.pos
	if d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && d.data[i] >= '1' && d.data[i] <= '9':
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return nil, d.syntax("in numeric literal")
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if i >= len(d.data) || d.data[i] < '0' || d.data[i] > '9' {
			d.pos = i
			return nil, d.syntax("after decimal point in numeric literal")
		}
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if i >= len(d.data) || d.data[i] < '0' || d.data[i] > '9' {
			d.pos = i
			return nil, d.syntax("in exponent of numeric literal")
		}
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	}
	d.pos = i
	text := d.data[start:i]
	// Small integers are the common case (ids, counts, sizes).
	if len(text) <= 15 {
		n, neg, ok := int64(0), false, true
		for j, c := range text {
			if j == 0 && c == '-' {
				neg = true
				continue
			}
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			if neg {
				if n == 0 {
					return negZero, nil
				}
				n = -n
			}
			if n >= 0 && n < int64(len(smallInts)) {
				return smallInts[n], nil // no allocation for the common counts and flags
			}
			return float64(n), nil
		}
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return nil, &NumberError{Text: string(text), Offset: start}
	}
	return f, nil
}

// smallInts are 0..1023 as boxed float64s.
var smallInts = func() (out [1024]any) {
	for i := range out {
		out[i] = float64(i)
	}
	return out
}()

// negZero is -0, which ParseFloat("-0") gives and float64(-int64(0)) does not.
var negZero = func() float64 { z := 0.0; return -z }()

// NumberError is a number beyond float64's range (encoding/json refuses it
// too, with an UnmarshalTypeError).
type NumberError struct {
	Text   string
	Offset int
}

func (e *NumberError) Error() string {
	return fmt.Sprintf("number %s at offset %d does not fit in a float64", e.Text, e.Offset)
}
