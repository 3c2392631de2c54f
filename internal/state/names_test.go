package state_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol/internal/state"
)

func TestNamesRoundTrip(t *testing.T) {
	g := testGraph()
	g.AddName(netip.MustParseAddr("203.0.113.7"), "api.example.com")
	g.AddName(netip.MustParseAddr("203.0.113.7"), "cdn.example.com")
	g.AddName(netip.MustParseAddr("2001:db8::7"), "v6.example.com")
	data, err := state.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"203.0.113.7": [`) {
		t.Errorf("state has no names:\n%s", data)
	}
	back, err := state.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range g.NamedAddrs() {
		if diff := cmp.Diff(g.Names(a), back.Names(a)); diff != "" {
			t.Errorf("names of %s (-want +got):\n%s", a, diff)
		}
	}
	again, err := state.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("encoding is not stable:\n%s\n---\n%s", data, again)
	}
}

func TestNamesBadAddress(t *testing.T) {
	_, err := state.Unmarshal([]byte(`{"schema":"netpol.dev/state/v1","windows":{},"edges":[],"names":{"nope":["a.example.com"]}}`))
	if err == nil || !strings.Contains(err.Error(), `names["nope"]: not an IP address`) {
		t.Errorf("error %v, want one naming the bad address", err)
	}
}
