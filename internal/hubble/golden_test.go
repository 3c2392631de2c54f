package hubble

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures returns the paths of testdata/flows/*.jsonl.
func fixtures(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob("testdata/flows/*.jsonl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return paths
}

// flowView is the golden rendering of a netpol.Flow.
type flowView struct {
	Time     string        `json:"time"`
	Node     string        `json:"node,omitempty"`
	Src      *endpointView `json:"src"`
	Dst      *endpointView `json:"dst"`
	Protocol string        `json:"protocol"`
	Verdict  string        `json:"verdict"`
	Reply    string        `json:"reply"`
	DNS      *netpol.DNS   `json:"dns,omitempty"`
}

type endpointView struct {
	IP        string             `json:"ip"`
	Port      uint16             `json:"port,omitempty"`
	Namespace string             `json:"namespace,omitempty"`
	Pod       string             `json:"pod,omitempty"`
	Labels    map[string]string  `json:"labels,omitempty"`
	Workload  netpol.WorkloadRef `json:"workload,omitzero"`
	Node      string             `json:"node,omitempty"`
	Reserved  netpol.Reserved    `json:"reserved,omitempty"`
	Identity  uint32             `json:"identity,omitempty"`
}

func viewEndpoint(e netpol.FlowEndpoint) *endpointView {
	ip := ""
	if e.IP.IsValid() {
		ip = e.IP.String()
	}
	return &endpointView{ip, e.Port, e.Namespace, e.Pod, e.Labels, e.Workload, e.Node, e.Reserved, e.Identity}
}

func viewFlow(f *netpol.Flow) flowView {
	reply := map[netpol.Tri]string{netpol.Unknown: "unknown", netpol.Yes: "yes", netpol.No: "no"}[f.Reply]
	return flowView{
		Time: f.Time.Format(time.RFC3339Nano), Node: f.Node,
		Src: viewEndpoint(f.Source), Dst: viewEndpoint(f.Destination),
		Protocol: f.Protocol.String(), Verdict: f.Verdict.String(), Reply: reply, DNS: f.DNS,
	}
}

// render reads path with a file source and renders flows and stats.
func render(t *testing.T, path string, slow bool) []byte {
	t.Helper()
	src := newFileSource([]string{path}, FileOptions{}, slow)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	err := src.Run(context.Background(), func(f *netpol.Flow) error {
		return enc.Encode(viewFlow(f))
	})
	if err != nil {
		t.Fatalf("Run(%s): %v", path, err)
	}
	st := src.Stats()
	for i, p := range st.Problems { // protojson's messages are randomized
		st.Problems[i] = stableProblem(p)
	}
	if err := enc.Encode(map[string]any{"stats": st}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// stableProblem keeps the position of a problem and drops the protojson
// detail, whose wording protojson deliberately varies between runs.
func stableProblem(p string) string {
	if i := strings.Index(p, "proto:"); i >= 0 {
		return p[:i] + "proto: ..."
	}
	return p
}

func TestGolden(t *testing.T) {
	for _, path := range fixtures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		t.Run(name, func(t *testing.T) {
			got := render(t, path, false)
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
			}
		})
	}
}
