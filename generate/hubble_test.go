package generate_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/hubble"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/netpoltest"
)

// hubbleSamples are the real `hubble observe -o json` captures kept by the
// hubble adapter (see their README for origin and licence).
var hubbleSamples = []string{"hubble-10-flows.jsonl", "hubble-5-dns-flows.jsonl", "hubble-5-http-flows.jsonl"}

// TestHubbleSamples runs the whole pipeline on the real Hubble samples:
// the file decoder, the graph builder resolving against the samples' pods
// (testdata/hubble/cluster.yaml), generation for their three namespaces,
// and the guarantee check.
func TestHubbleSamples(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "hubble", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := manifest.Loader{}
	snap, _, err := l.Decode("cluster.yaml", f)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, s := range hubbleSamples {
		paths = append(paths, filepath.Join("..", "internal", "hubble", "testdata", "flows", s))
	}
	b := graph.NewBuilder(graph.NewResolver(snap), nil, graph.Options{})
	src := hubble.NewFileSource(paths, hubble.FileOptions{Strict: true})
	if err := src.Run(context.Background(), func(f *netpol.Flow) error { b.Add(f); return nil }); err != nil {
		t.Fatal(err)
	}
	g := b.Graph()
	if edges, _ := g.Len(); edges < 8 {
		t.Fatalf("learned %d edges from the samples, want at least 8", edges)
	}
	r, err := generate.Policies(g, snap, generate.Options{Namespaces: []string{"bookinfo", "istio-system", "kube-system"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := generate.Verify(g, snap, r)
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK() {
		t.Errorf("guarantees fail on the samples: %v / %v", first(c.Denied), first(c.Unexpected))
	}
	netpoltest.Golden(t, filepath.Join("testdata", "hubble.golden"), render(t, r, c))
}
