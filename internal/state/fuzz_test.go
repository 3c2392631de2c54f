package state_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/netpol/netpol/internal/state"
)

// FuzzUnmarshal checks that the decoder never panics, and that whatever it
// accepts encodes deterministically and survives a round trip unchanged.
func FuzzUnmarshal(f *testing.F) {
	if golden, err := os.ReadFile("testdata/state.golden"); err == nil {
		f.Add(golden)
	}
	for _, s := range []string{
		`{"schema":"netpol.dev/state/v1"}`,
		`{"schema":"netpol.dev/state/v1","windows":{"a":{"first":"2024-01-01T00:00:00+02:00","last":"2024-01-01T00:00:00Z"}}}`,
		`{"schema":"netpol.dev/state/v1","edges":[{"from":"Pod:a/a","to":"External:::ffff:1.2.3.4","forwarded":[{"protocol":"TCP","port":1,"count":1,"firstSeen":"2024-01-01T00:00:00Z","lastSeen":"2024-01-01T00:00:00Z"}]}]}`,
		`{"schema":"netpol.dev/state/v1","edges":[{"from":"Pod:a/a","to":"Pod:a/a","forwarded":[{"protocol":"UDP","port":53,"count":9223372036854775807,"firstSeen":"2024-01-01T00:00:00Z","lastSeen":"2024-01-01T00:00:00Z","sample":{"time":"2024-01-01T00:00:00Z","source":{"ip":"fe80::1%eth0"},"destination":{},"verdict":"audit"}}]},{"from":"Pod:a/a","to":"Pod:a/a","forwarded":[{"protocol":"UDP","port":53,"count":1,"firstSeen":"2023-01-01T00:00:00Z","lastSeen":"2024-01-01T00:00:00Z"}]}]}`,
		`{"schema":"netpol.dev/state/v2"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := state.Unmarshal(data)
		if err != nil {
			return
		}
		once, err := state.Marshal(g)
		if err != nil {
			return // e.g. a time beyond year 9999 after normalization
		}
		again, err := state.Marshal(g)
		if err != nil || !bytes.Equal(once, again) {
			t.Fatalf("Marshal is not deterministic: %v\n%s\n%s", err, once, again)
		}
		g2, err := state.Unmarshal(once)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(g)) = %v\n%s", err, once)
		}
		twice, err := state.Marshal(g2)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("round trip changed the state: %v\n%s\n%s", err, once, twice)
		}
	})
}
