package catalog

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// Field hashes let a plan hold Port's current state as a few 64-bit numbers
// per entity instead of decoded JSON. Two values get the same hash exactly
// when their sorted-key JSON texts are equal (internal/port/API-NOTES.md
// "Ocean's equality rules"), up to 64-bit collisions.
//
// The hash is keyed with a seed chosen at random for each computed changeset
// and stored with it, so a plan and the apply that runs in another process
// hash alike (conditional apply compares fingerprints across the two), while
// a collision (odds about 2⁻⁶⁴ per compared field) would not repeat on the
// next plan, and Harbor data cannot be crafted to collide on purpose.

const (
	hashNull       uint64 = 0 // null, and absence (Ocean treats them alike)
	hashUnhashable uint64 = 1 // not encodable as JSON (NaN, ±Inf, channels…): never equal
)

// newSeed returns a random hash seed.
func newSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return binary.LittleEndian.Uint64(b[:])
}

// processSeed keys in-process comparisons (sameValue), which never leave
// the process.
var processSeed = newSeed()

// sameValue compares two values as Ocean does: json.dumps with sorted keys,
// where Go's encoder also sorts map keys and prints 1.0 as 1; a value that
// cannot be encoded equals nothing.
func sameValue(a, b any) bool {
	ha, hb := valueHash(processSeed, a), valueHash(processSeed, b)
	return ha == hb && ha != hashUnhashable
}

// valueHash hashes v's JSON text canonically, keyed by seed (see the file
// comment).
func valueHash(seed uint64, v any) uint64 {
	if v == nil {
		return hashNull
	}
	h, ok := hasherPool.Get().(*hasher)
	if !ok { // only *hasher is ever put in the pool; keep going regardless
		h = new(hasher)
	}
	defer hasherPool.Put(h)
	h.buf = h.buf[:0]
	if !h.value(v) {
		return hashUnhashable
	}
	h.d.ResetWithSeed(seed)
	_, _ = h.d.Write(h.buf) // a Digest's Write never fails
	sum := h.d.Sum64()
	if sum <= hashUnhashable { // keep the two reserved values reserved
		sum += 2
	}
	if cap(h.buf) > 64<<10 { // do not pool a huge value's buffer
		h.buf = nil
	}
	return sum
}

// Fingerprints name the state of one entity in Port, as far as the mapping
// compares it: a hash of its compared fields' hashes in the blueprint's
// column order. fpAbsent is "no such entity".
const fpAbsent uint64 = 0

func fingerprint(seed uint64, cols []uint64) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(seed ^ 0x9e3779b97f4a7c15) // a different key than the field hashes'
	var b [8]byte
	for _, c := range cols {
		binary.LittleEndian.PutUint64(b[:], c)
		_, _ = d.Write(b[:])
	}
	if sum := d.Sum64(); sum != fpAbsent {
		return sum
	}
	return 1
}

var hasherPool = sync.Pool{New: func() any { return new(hasher) }}

// hasher writes a token stream that is injective on JSON texts: every
// token is tagged and length-prefixed, so no two different texts produce
// the same stream. The stream is collected in buf and hashed at once.
type hasher struct {
	d    xxhash.Digest
	buf  []byte
	num  []byte
	keys []string
}

func (h *hasher) writeByte(c byte)     { h.buf = append(h.buf, c) }
func (h *hasher) writeString(s string) { h.buf = append(h.buf, s...) }
func (h *hasher) write(b []byte)       { h.buf = append(h.buf, b...) }

func (h *hasher) value(v any) bool {
	switch x := v.(type) {
	case nil:
		h.writeByte('z')
	case bool:
		if x {
			h.writeByte('t')
		} else {
			h.writeByte('f')
		}
	case string:
		h.writeByte('s')
		h.str(x)
	case float64:
		return h.float(x)
	case int:
		h.number(strconv.AppendInt(h.num[:0], int64(x), 10))
	case int64:
		h.number(strconv.AppendInt(h.num[:0], x, 10))
	case json.Number:
		h.number(append(h.num[:0], x...))
	case []any:
		h.writeByte('a')
		h.length(len(x))
		for _, e := range x {
			if !h.value(e) {
				return false
			}
		}
	case []string:
		h.writeByte('a')
		h.length(len(x))
		for _, e := range x {
			h.writeByte('s')
			h.str(e)
		}
	case map[string]any:
		return h.object(x)
	default:
		return h.fallback(v)
	}
	return true
}

// str writes a string as the encoder would print it: its text is
// injective except that it writes every byte of invalid UTF-8 as \ufffd,
// so all such bytes become one byte that valid UTF-8 never contains.
func (h *hasher) str(s string) {
	if utf8.ValidString(s) {
		h.length(len(s))
		h.writeString(s)
		return
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, 0xff)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	h.length(len(b))
	h.write(b)
}

// float writes a float64 in encoding/json's format (fast path for small
// integers, which print as their digits).
func (h *hasher) float(f float64) bool {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return false
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 && !(f == 0 && math.Signbit(f)) {
		h.number(strconv.AppendInt(h.num[:0], int64(f), 10))
		return true
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(h.num[:0], f, format, -1, 64)
	if format == 'e' { // encoding/json prints e-07 as e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	h.number(b)
	return true
}

func (h *hasher) number(text []byte) {
	h.num = text[:0]
	h.writeByte('n')
	h.length(len(text))
	h.write(text)
}

func (h *hasher) length(n int) {
	var b [binary.MaxVarintLen64]byte
	h.write(b[:binary.PutUvarint(b[:], uint64(n))])
}

// object writes the keys in sorted order, as encoding/json prints them.
func (h *hasher) object(m map[string]any) bool {
	h.writeByte('o')
	h.length(len(m))
	start := len(h.keys)
	for k := range m {
		h.keys = append(h.keys, k)
	}
	keys := h.keys[start:]
	sort.Strings(keys)
	ok := true
	for _, k := range keys {
		h.writeByte('s')
		h.str(k)
		if !h.value(m[k]) {
			ok = false
			break
		}
	}
	h.keys = h.keys[:start]
	return ok
}

// fallback hashes any other type through its JSON text, decoded back with
// numbers kept as written (so 1 and 1.0 from different Go types still
// compare by their printed form).
func (h *hasher) fallback(v any) bool {
	raw, err := json.Marshal(v)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return false
	}
	return h.value(tree)
}
