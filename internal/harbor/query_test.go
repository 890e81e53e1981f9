package harbor

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestBuildQ(t *testing.T) {
	tests := []struct {
		name    string
		terms   []QTerm
		want    string
		wantErr string
	}{
		{name: "none", want: ""},
		{name: "exact", terms: []QTerm{QEq("name", "hello")}, want: "name=hello"},
		{name: "fuzzy", terms: []QTerm{QLike("name", "team/he")}, want: "name=~team/he"},
		{name: "several", terms: []QTerm{QEq("tags", "*"), QLike("name", "x")}, want: "tags=*,name=~x"},
		{name: "exact with spaces is kept", terms: []QTerm{QEq("description", "a b")}, want: "description=a b"},
		{name: "exact starting with ~ is escaped", terms: []QTerm{QEq("name", "~x")}, want: `name=\~x`},
		{name: "exact starting with { is escaped", terms: []QTerm{QEq("name", "{a b}")}, want: `name=\{a b}`},
		{name: "exact starting with backslash is escaped", terms: []QTerm{QEq("name", `\x`)}, want: `name=\\x`},
		{name: "range", terms: []QTerm{QBetween("id", "1", "10")}, want: "id=[1~10]"},
		{name: "open range", terms: []QTerm{QBetween("creation_time", "2020-04-09T02:36:00", "")}, want: "creation_time=[2020-04-09T02:36:00~]"},
		{name: "any of", terms: []QTerm{QIn("name", "a", "b")}, want: "name={a b}"},
		{name: "all of", terms: []QTerm{QAll("labels", "1", "2")}, want: "labels=(1 2)"},
		{name: "comma in exact", terms: []QTerm{QEq("name", "a,b")}, wantErr: "comma"},
		{name: "comma in fuzzy", terms: []QTerm{QLike("name", "a,b")}, wantErr: "comma"},
		{name: "empty value", terms: []QTerm{QEq("name", "")}, wantErr: "empty"},
		{name: "empty key", terms: []QTerm{QEq("", "x")}, wantErr: "key"},
		{name: "key with =", terms: []QTerm{QEq("a=b", "x")}, wantErr: "key"},
		{name: "key with comma", terms: []QTerm{QEq("a,b", "x")}, wantErr: "key"},
		{name: "duplicate key", terms: []QTerm{QEq("name", "a"), QLike("name", "b")}, wantErr: "twice"},
		{name: "space in list value", terms: []QTerm{QIn("name", "a b")}, wantErr: "whitespace"},
		{name: "quoted list value", terms: []QTerm{QIn("name", `"a"`)}, wantErr: "quotes"},
		{name: "empty list", terms: []QTerm{QIn("name")}, wantErr: "at least 1"},
		{name: "empty list value", terms: []QTerm{QIn("name", "a", "")}, wantErr: "empty"},
		{name: "tilde in range", terms: []QTerm{QBetween("id", "1~2", "")}, wantErr: "'~'"},
		{name: "open both ends", terms: []QTerm{QBetween("id", "", "")}, wantErr: "both empty"},
		{name: "range padded", terms: []QTerm{QBetween("id", " 1", "")}, wantErr: "whitespace"},
		{name: "wrong arity", terms: []QTerm{{Key: "name", Op: QExact, Values: []string{"a", "b"}}}, wantErr: "exactly 1"},
		{name: "unknown op", terms: []QTerm{{Key: "name", Op: QOp(42), Values: []string{"a"}}}, wantErr: "unknown operator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BuildQ(tc.terms...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("BuildQ() = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("BuildQ() = %q, %v; want %q", got, err, tc.want)
			}
			back, err := ParseQ(got)
			if err != nil {
				t.Fatalf("ParseQ(%q): %v", got, err)
			}
			if len(tc.terms) > 0 && !reflect.DeepEqual(back, tc.terms) {
				t.Fatalf("ParseQ(BuildQ()) = %#v, want %#v", back, tc.terms)
			}
		})
	}
}

// ParseQ follows Harbor's parser (src/lib/q/builder.go) on the inputs Harbor rejects.
func TestParseQRejectsWhatHarborRejects(t *testing.T) {
	for _, expr := range []string{
		"name", "=x", "name=", "name=a,", ",name=a", "name=~", "id=[1~2", "id=[1~2~3]", "id=[~]",
		"name={a b", "name=(a b", "name={}", "name=a,name=b", "na me=x",
	} {
		if _, err := ParseQ(expr); err == nil {
			t.Errorf("ParseQ(%q) accepted an expression Harbor would reject or misread", expr)
		}
	}
	got, err := ParseQ(`name={ "a"  'b' },id=[ 1 ~ ],tags=\~x`)
	if err != nil {
		t.Fatal(err)
	}
	want := []QTerm{QIn("name", "a", "b"), QBetween("id", "1", ""), QEq("tags", "~x")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseQ = %#v, want %#v", got, want)
	}
}

// Harbor url.QueryUnescape's q once more (builder.go parseKeywords): EncodeQ must make that the identity.
func TestEncodeQSurvivesHarborsExtraUnescape(t *testing.T) {
	for _, expr := range []string{"name=~a+b", "name=100%", "name=%2C", "name=a b", "tags=*", "name=~%zz"} {
		enc := EncodeQ(expr)
		// The wire: url.Values encodes, the server decodes, then Harbor unescapes again.
		wire := url.Values{"q": {enc}}.Encode()
		v, err := url.ParseQuery(wire)
		if err != nil {
			t.Fatal(err)
		}
		got, err := url.QueryUnescape(v.Get("q"))
		if err != nil || got != expr {
			t.Errorf("EncodeQ(%q): Harbor would see %q (err %v)", expr, got, err)
		}
	}
}

func FuzzBuildParseQ(f *testing.F) {
	f.Add("name", "a b", "~x", "1", "2", "v1 v2")
	f.Add("tags", "*", `\`, "", "9", `"q"`)
	f.Add("k.x", "a,b", "{", "~", "]", "a}")
	f.Fuzz(func(t *testing.T, key, exact, fuzzy, lo, hi, list string) {
		terms := []QTerm{QEq(key, exact), QLike(key+"f", fuzzy), QBetween(key+"r", lo, hi), QIn(key+"l", strings.Split(list, " ")...)}
		for _, tm := range terms {
			expr, err := BuildQ(tm)
			if err != nil {
				continue
			}
			if strings.Count(expr, ",") != 0 {
				t.Fatalf("BuildQ(%#v) = %q contains a comma", tm, expr)
			}
			back, err := ParseQ(expr)
			if err != nil {
				t.Fatalf("ParseQ(BuildQ(%#v) = %q): %v", tm, expr, err)
			}
			if !reflect.DeepEqual(back, []QTerm{tm}) {
				t.Fatalf("round trip of %#v via %q gave %#v", tm, expr, back)
			}
			if got, err := url.QueryUnescape(EncodeQ(expr)); err != nil || got != expr {
				t.Fatalf("EncodeQ(%q) does not survive QueryUnescape: %q, %v", expr, got, err)
			}
		}
	})
}
