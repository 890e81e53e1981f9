package jsonvalue

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// same checks Decode against encoding/json on one document: the same value,
// or both an error.
func same(t testing.TB, doc []byte) {
	t.Helper()
	var want any
	wantErr := json.Unmarshal(doc, &want)
	got, err := Decode(doc)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("%q: encoding/json fails (%v), Decode gives %#v", doc, wantErr, got)
	case wantErr == nil && err != nil:
		t.Fatalf("%q: encoding/json gives %#v, Decode fails: %v", doc, want, err)
	case wantErr == nil && !equal(got, want):
		t.Fatalf("%q:\n got %#v\nwant %#v", doc, got, want)
	}
}

// equal is reflect.DeepEqual, except that -0 and 0 differ (DeepEqual says
// they are equal) and NaN cannot occur.
func equal(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && fa == fb && math.Signbit(fa) == math.Signbit(fb)
	}
	return reflect.DeepEqual(a, b) && reflect.DeepEqual(b, a)
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`null`, `true`, `false`, `0`, `-0`, `-0.0`, `1`, `-1`, `123456789012345`, `1234567890123456789`, `1e3`, `1E-3`, `-1.5e+10`,
		`0.1`, `1.7976931348623157e308`, `5e-324`, `1e400`, `-1e400`, `01`, `-`, `1.`, `.5`, `1e`, `+1`, `0x10`, `NaN`,
		`""`, `"a"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83d\u0041"`, `"\ud83dx"`,
		`"\u12"`, `"\u12G4"`, `"\x"`, "\"a\x01b\"", "\"\xff\xfe\"", "\"é\xc3\"", `"unterminated`, `"a\`,
		`[]`, `[1,2,3]`, `[1,]`, `[,1]`, `[1 2]`, `{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":}`,
		` { "a" : [ 1 , { "b" : null } ] } `, `{"a":1} x`, `[1] [2]`, `tru`, `nul`, `falsey`, ``, ` `, "\t[\r\n]",
		`{"k\u00e9y":"v"}`, `{"":""}`, `[[[[[]]]]]`,
	} {
		same(t, []byte(doc))
	}
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	same(t, []byte(deep))
	same(t, []byte("["+deep+"]"))
}

// Every captured Harbor and Port response in the repository decodes the same.
func TestDecodeCaptures(t *testing.T) {
	var n int
	for _, dir := range []string{"../harbor/testdata", "../port/testdata", "../listener/testdata", "../sandbox/harborsim/testdata"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			same(t, doc)
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d captures found", n)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",null,true]}`, `"\ud83d\ude00"`, `[1e400]`, "\"\xff\"", `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { same(t, doc) })
}

func BenchmarkDecode(b *testing.B) {
	one, err := os.ReadFile("../harbor/testdata/real-api-artifacts-list.json")
	if err != nil {
		b.Skip(err)
	}
	// A page of 100 artifacts, as a plan reads them.
	var items []any
	if err := json.Unmarshal(one, &items); err != nil {
		b.Fatal(err)
	}
	page := make([]any, 0, 100)
	for len(page) < 100 {
		page = append(page, items...)
	}
	doc, _ := json.Marshal(page[:100])
	b.Run("jsonvalue", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for range b.N {
			if _, err := Decode(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for range b.N {
			var v any
			if err := json.Unmarshal(doc, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// DecodeList keeps what keep accepts and otherwise gives what encoding/json
// gives into []map[string]any; skipped values are still checked.
func TestDecodeList(t *testing.T) {
	keepA := func(k string) bool { return k == "a" }
	for _, doc := range []string{
		`null`, `[]`, `[null]`, `[{}]`, `[{"a":1,"b":[1,{"c":"x\u00e9"}],"c":"s"}, {"b":null,"a":{"d":[]}}]`,
		`[{"a":1,"b":[1,}]`, `[{"a":1,"b":"\x"}]`, `[{"a":1,"b":01}]`, `[{"a":1,"b":tru}]`, `[{"a":1,"b":{"k" 1}}]`,
		`[1]`, `{}`, `[{"a":1}] x`, `[{"a":1},]`, "[{\"b\":\"\x01\"}]", `[{"b":1e400}]`,
	} {
		var want []map[string]any
		wantErr := json.Unmarshal([]byte(doc), &want)
		got, err := DecodeList([]byte(doc), keepA)
		if (wantErr != nil) != (err != nil) {
			t.Fatalf("%s: encoding/json error %v, DecodeList error %v", doc, wantErr, err)
		}
		if err != nil {
			continue
		}
		for _, m := range want {
			for k := range m {
				if !keepA(k) {
					delete(m, k)
				}
			}
		}
		if !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
			t.Fatalf("%s:\n got %#v\nwant %#v", doc, got, want)
		}
		all, err := DecodeList([]byte(doc), nil)
		var wantAll []map[string]any
		_ = json.Unmarshal([]byte(doc), &wantAll)
		if err != nil || (!reflect.DeepEqual(all, wantAll) && (len(all) != 0 || len(wantAll) != 0)) {
			t.Fatalf("%s, keep all:\n got %#v %v\nwant %#v", doc, all, err, wantAll)
		}
	}
}

func FuzzDecodeList(f *testing.F) {
	f.Add([]byte(`[{"a":1,"b":[1,{"c":"x"}]}]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		keep := func(k string) bool { return len(k)%2 == 0 }
		var want []map[string]any
		wantErr := json.Unmarshal(doc, &want)
		got, err := DecodeList(doc, keep)
		if (wantErr != nil) != (err != nil) {
			t.Fatalf("%q: encoding/json error %v, DecodeList error %v", doc, wantErr, err)
		}
		if err != nil {
			return
		}
		for _, m := range want {
			for k := range m {
				if !keep(k) {
					delete(m, k)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d elements, want %d", doc, len(got), len(want))
		}
		for i := range got {
			if len(got[i]) != len(want[i]) || (len(got[i]) > 0 && !equal(any(got[i]), any(want[i]))) {
				t.Fatalf("%q element %d:\n got %#v\nwant %#v", doc, i, got[i], want[i])
			}
		}
	})
}
