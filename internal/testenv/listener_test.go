package testenv

import "testing"

// The "listening" line in both of serve's log formats gives the address;
// other lines do not.
func TestListeningAddr(t *testing.T) {
	for _, c := range []struct {
		line, want string
		ok         bool
	}{
		{`time=2026-01-01T00:00:00Z level=INFO msg=listening addr=127.0.0.1:4100 component=serve`, "127.0.0.1:4100", true},
		{`{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"listening","addr":"127.0.0.1:4200"}`, "127.0.0.1:4200", true},
		{`{"msg":"webhook accepted","addr":"127.0.0.1:4300"}`, "", false},
		{`level=INFO msg="listening soon"`, "", false},
		{`msg=listening addr=`, "", false},
	} {
		got, ok := listeningAddr(c.line)
		if got != c.want || ok != c.ok {
			t.Errorf("listeningAddr(%q) = %q, %v; want %q, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}
