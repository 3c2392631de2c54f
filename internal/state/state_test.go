package state_test

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/internal/state"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// testGraph has a workload edge with forwarded and dropped evidence, an
// external, a reserved identity, and two learning windows.
func testGraph() *graph.Graph {
	g := graph.New()
	web := graph.WorkloadNode(graph.KindDeployment, "shop", "web")
	cart := graph.WorkloadNode(graph.KindDeployment, "shop", "cart")
	port := func(proto netpol.Protocol, p uint16, count int64, verdict netpol.FlowVerdict) graph.PortStats {
		return graph.PortStats{Protocol: proto, Port: p, Count: count, FirstSeen: t0, LastSeen: t0.Add(time.Hour),
			Sample: graph.Sample{Time: t0, Verdict: verdict, Node: "n1",
				Source:      graph.SampleEndpoint{IP: netip.MustParseAddr("10.0.0.1"), Port: 41000, Namespace: "shop", Pod: "web-5d7f8c9b6-x2x4z"},
				Destination: graph.SampleEndpoint{IP: netip.MustParseAddr("10.0.0.9"), Port: p, Namespace: "shop", Pod: "cart-0"}}}
	}
	g.Add(graph.Edge{From: web, To: cart,
		Forwarded: []graph.PortStats{port(netpol.ProtocolTCP, 8080, 12, netpol.Forwarded), port(netpol.ProtocolUDP, 8125, 3, netpol.Forwarded)},
		Dropped:   []graph.PortStats{port(netpol.ProtocolTCP, 9090, 1, netpol.Dropped)}})
	g.Add(graph.Edge{From: cart, To: graph.ExternalNode(netip.MustParseAddr("203.0.113.7")),
		Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolTCP, Port: 443, Count: 2, FirstSeen: t0, LastSeen: t0}}})
	g.Add(graph.Edge{From: graph.ReservedNode(netpol.ReservedHost), To: web,
		Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolICMP, Count: 1, FirstSeen: t0, LastSeen: t0}}})
	g.Observe("shop", graph.Window{First: t0, Last: t0.Add(48 * time.Hour)})
	g.Observe("billing", graph.Window{First: t0, Last: t0.Add(24 * time.Hour)})
	return g
}

func picture(g *graph.Graph) any {
	return struct {
		E []graph.Edge
		W map[string]graph.Window
	}{g.Edges(), g.Windows()}
}

var equateAddr = cmpopts.EquateComparable(netip.Addr{})

func TestMarshalGolden(t *testing.T) {
	data, err := state.Marshal(testGraph())
	if err != nil {
		t.Fatal(err)
	}
	netpoltest.Golden(t, "testdata/state.golden", data)
	g, err := state.Unmarshal(data)
	if err != nil {
		t.Fatalf("Unmarshal(Marshal(g)): %v", err)
	}
	if diff := cmp.Diff(picture(testGraph()), picture(g), equateAddr); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
		schema           bool
	}{
		{"newer schema", `{"schema":"netpol.dev/state/v2","whatever":1}`, `state schema "netpol.dev/state/v2" is newer than this netpol reads`, true},
		{"unknown schema", `{"schema":"example.com/v1"}`, `unknown state schema "example.com/v1"`, true},
		{"no schema", `{"edges":[]}`, `not a netpol state file`, true},
		{"not json", `hello`, `decoding state: invalid character`, false},
		{"not an object", `[1]`, `decoding state: json: cannot unmarshal array`, false},
		{"unknown field", `{"schema":"netpol.dev/state/v1","extra":1}`, `unknown field "extra"`, false},
		{"trailing data", `{"schema":"netpol.dev/state/v1"} {}`, `after top-level value`, false},
		{"bad node", `{"schema":"netpol.dev/state/v1","edges":[{"from":"shop/web","to":"Pod:a/b","forwarded":[{"protocol":"TCP","port":1,"count":1,"firstSeen":"2024-01-01T00:00:00Z","lastSeen":"2024-01-01T00:00:00Z"}]}]}`, `edges[0]: from: node "shop/web"`, false},
		{"bad protocol", `{"schema":"netpol.dev/state/v1","edges":[{"from":"Pod:a/a","to":"Pod:a/b","dropped":[{"protocol":"XYZ","port":1,"count":1,"firstSeen":"2024-01-01T00:00:00Z","lastSeen":"2024-01-01T00:00:00Z"}]}]}`, `edges[0]: dropped[0].protocol: unknown protocol "XYZ"`, false},
		{"zero count", `{"schema":"netpol.dev/state/v1","edges":[{"from":"Pod:a/a","to":"Pod:a/b","forwarded":[{"protocol":"TCP","port":1,"count":0,"firstSeen":"2024-01-01T00:00:00Z","lastSeen":"2024-01-01T00:00:00Z"}]}]}`, `forwarded[0].count: 0`, false},
		{"last before first", `{"schema":"netpol.dev/state/v1","edges":[{"from":"Pod:a/a","to":"Pod:a/b","forwarded":[{"protocol":"TCP","port":1,"count":1,"firstSeen":"2024-01-02T00:00:00Z","lastSeen":"2024-01-01T00:00:00Z"}]}]}`, `want firstSeen <= lastSeen`, false},
		{"bad window", `{"schema":"netpol.dev/state/v1","windows":{"shop":{"first":"2024-01-02T00:00:00Z","last":"2024-01-01T00:00:00Z"}}}`, `windows["shop"]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := state.Unmarshal([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Unmarshal: %v, want an error containing %q", err, tc.want)
			}
			var se *state.SchemaError
			if errors.As(err, &se) != tc.schema {
				t.Errorf("errors.As(%v, *SchemaError) = %v, want %v", err, !tc.schema, tc.schema)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	g, existed, err := state.LoadOrNew(path)
	if err != nil || existed {
		t.Fatalf("LoadOrNew(missing) = %v, %v, want a new graph", existed, err)
	}
	if _, err := state.Load(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	g.Merge(testGraph())
	if err := state.Save(path, g); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := state.Save(path, g); err != nil {
		t.Fatal(err)
	}
	back, existed, err := state.LoadOrNew(path)
	if err != nil || !existed {
		t.Fatalf("LoadOrNew = %v, %v", existed, err)
	}
	if diff := cmp.Diff(picture(g), picture(back), equateAddr); diff != "" {
		t.Errorf("Load(Save(g)) (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the state file (no temporary left)", len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after a rewrite, want the file's 0600 kept", fi.Mode().Perm())
	}
}

func TestSaveRefusesOtherSchemas(t *testing.T) {
	for _, content := range []string{`{"schema":"netpol.dev/state/v2","edges":[]}`, `not json at all`, `{"hello":1}`} {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		err := state.Save(path, testGraph())
		if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
			t.Errorf("Save over %q: %v, want a refusal", content, err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("Save over %q changed the file to %q", content, got)
		}
		if _, err := state.Load(path); err == nil {
			t.Errorf("Load(%q) succeeded", content)
		}
	}
}

func TestSaveIntoMissingDirectory(t *testing.T) {
	err := state.Save(filepath.Join(t.TempDir(), "no", "state.json"), testGraph())
	if err == nil || !strings.Contains(err.Error(), "writing state") {
		t.Errorf("Save into a missing directory: %v, want an error", err)
	}
}
