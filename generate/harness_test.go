package generate_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/manifest"
)

// t0 is the start of every test case's learning: "+10s" is t0 plus 10 s.
var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// testCase is a generate/testdata/*.txtar case: the cluster's manifests
// (cluster.yaml), the learned graph in a line DSL (graph) and options.
type testCase struct {
	snap *netpol.Snapshot
	g    *graph.Graph
	opts generate.Options
}

// loadCase reads a case archive. The graph section has one statement a
// line ('#' comments):
//
//	FROM -> TO PROBE... [xN] [+FIRST..+LAST] [src=IP] [dst=IP]   an edge (node keys, as "Deployment:shop/web")
//	window NS [+FIRST..+LAST]                                   a learning window
//	name IP NAME...                                             DNS names of an address
//
// The options section holds words: named-ports, port-ranges, lock-idle,
// cidr-prefix=N, namespaces=a,b.
func loadCase(t testing.TB, path string) testCase {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tc testCase
	tc.g = graph.New()
	tc.snap = &netpol.Snapshot{}
	for _, f := range ar.Files {
		switch f.Name {
		case "cluster.yaml":
			l := manifest.Loader{}
			snap, _, err := l.Decode(path+":cluster.yaml", bytes.NewReader(f.Data))
			if err != nil {
				t.Fatal(err)
			}
			tc.snap = snap
		case "graph":
			if err := parseGraph(tc.g, string(f.Data)); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		case "options":
			tc.opts = parseOptions(t, string(f.Data))
		default:
			t.Fatalf("%s: unknown section %q", path, f.Name)
		}
	}
	return tc
}

func parseOptions(t testing.TB, s string) generate.Options {
	var o generate.Options
	for _, w := range strings.Fields(s) {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "named-ports":
			o.NamedPorts = true
		case "port-ranges":
			o.PortRanges = true
		case "lock-idle":
			o.LockIdle = true
		case "cidr-prefix":
			o.CIDRPrefix, _ = strconv.Atoi(v)
		case "namespaces":
			o.Namespaces = strings.Split(v, ",")
		default:
			t.Fatalf("unknown option %q", w)
		}
	}
	return o
}

func parseSpan(s string) (first, last time.Time, err error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return first, last, fmt.Errorf("span %q: want +FIRST..+LAST", s)
	}
	da, err1 := time.ParseDuration(strings.TrimPrefix(a, "+"))
	db, err2 := time.ParseDuration(strings.TrimPrefix(b, "+"))
	if err1 != nil || err2 != nil {
		return first, last, fmt.Errorf("span %q: want durations", s)
	}
	return t0.Add(da), t0.Add(db), nil
}

func parseGraph(g *graph.Graph, text string) error {
	for n, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if err := parseStatement(g, f); err != nil {
			return fmt.Errorf("graph:%d: %w", n+1, err)
		}
	}
	return nil
}

func parseStatement(g *graph.Graph, f []string) error {
	switch f[0] {
	case "window":
		first, last := t0, t0.Add(time.Hour)
		if len(f) > 2 {
			var err error
			if first, last, err = parseSpan(f[2]); err != nil {
				return err
			}
		}
		g.Observe(f[1], graph.Window{First: first, Last: last})
		return nil
	case "name":
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			return err
		}
		for _, n := range f[2:] {
			g.AddName(a, n)
		}
		return nil
	}
	if len(f) < 4 || f[1] != "->" {
		return fmt.Errorf("want FROM -> TO PROBE..., got %q", strings.Join(f, " "))
	}
	from, err := graph.ParseNode(f[0])
	if err != nil {
		return err
	}
	to, err := graph.ParseNode(f[2])
	if err != nil {
		return err
	}
	e := graph.Edge{From: from, To: to}
	count, first, last := int64(1), t0, t0.Add(time.Hour)
	var sample graph.Sample
	var probes []netpol.Probe
	for _, w := range f[3:] {
		switch {
		case strings.HasPrefix(w, "x"):
			count, err = strconv.ParseInt(w[1:], 10, 64)
		case strings.HasPrefix(w, "+"):
			first, last, err = parseSpan(w)
		case strings.HasPrefix(w, "src="):
			sample.Source.IP, err = netip.ParseAddr(w[4:])
		case strings.HasPrefix(w, "dst="):
			sample.Destination.IP, err = netip.ParseAddr(w[4:])
		case w == "ICMP":
			probes = append(probes, netpol.Probe{Protocol: netpol.ProtocolICMP})
		default:
			var p netpol.Probe
			p, err = netpol.ParseProbe(w)
			probes = append(probes, p)
		}
		if err != nil {
			return err
		}
	}
	if sample != (graph.Sample{}) {
		sample.Time, sample.Verdict = first, netpol.Forwarded
	}
	for _, p := range probes {
		e.Forwarded = append(e.Forwarded, graph.PortStats{Protocol: p.Protocol, Port: p.Port, Count: count,
			FirstSeen: first, LastSeen: last, Sample: sample})
	}
	g.Add(e)
	return nil
}

// render writes a result and its check as a golden file shows them: the
// NetworkPolicies as YAML, the Cilium policies, the report and the check.
func render(t testing.TB, r *generate.Result, c *generate.Check) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, np := range r.Policies {
		data, err := yaml.Marshal(np)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	b.WriteString("### cilium\n")
	for _, cnp := range r.Cilium() {
		data, err := yaml.Marshal(cnp)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	b.WriteString("### report\n")
	fmt.Fprintf(&b, "dns: %s", r.DNS.Source)
	if r.DNS.Found() {
		fmt.Fprintf(&b, " namespace=%s selectors=%v ports=%v addresses=%v workloads=%v", r.DNS.Namespace, r.DNS.Selectors, r.DNS.Ports, r.DNS.Addresses, r.DNS.Workloads)
	}
	b.WriteString("\n")
	for _, ns := range r.Namespaces {
		fmt.Fprintf(&b, "namespace %s idle=%v policed=%v\n", ns.Name, ns.Idle, ns.Policed)
		for _, w := range ns.Workloads {
			fmt.Fprintf(&b, "  %s policy=%q selector=%v exact=%v idle=%v rules=%d\n", w.Node.Key(), w.Policy, w.Selector, w.Exact, w.Idle, len(w.Rules))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note %s [%s]: %s\n", n.Namespace, n.Subject, n.Message)
	}
	if c != nil {
		fmt.Fprintf(&b, "### check ok=%v observed=%d pairs=%d probes=%v idle=%v truncated=%d\n", c.OK(), c.Observed, c.Pairs, c.Probes, c.Idle, c.Truncated)
		for _, l := range []struct {
			name   string
			faults []generate.Fault
		}{{"denied", c.Denied}, {"unexpected", c.Unexpected}, {"existing", c.Existing}, {"unchecked", c.Unchecked}} {
			for _, f := range l.faults {
				fmt.Fprintf(&b, "%s %s\n", l.name, f)
			}
		}
	}
	return b.Bytes()
}

// readFile is os.ReadFile that fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
