package recipes_test

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/recipes"
	"github.com/netpol/netpol/simulate"
)

// exampleCluster is the fixed cluster of the package doc, on which every
// recipe's example connectivity is checked.
func exampleCluster() *netpol.Snapshot {
	return &netpol.Snapshot{
		Namespaces: []corev1.Namespace{
			netpoltest.Namespace("shop", "team=shop"),
			netpoltest.Namespace("other", "team=other"),
			netpoltest.Namespace("kube-system", ""),
		},
		Pods: []corev1.Pod{
			netpoltest.Pod("shop/web", "app=web", "10.0.1.1", "http:8080/TCP metrics:9090/TCP"),
			netpoltest.Pod("shop/api", "app=api", "10.0.1.2", "http:8080/TCP"),
			netpoltest.Pod("shop/db", "app=db", "10.0.1.3", "5432/TCP"),
			netpoltest.Pod("other/client", "app=client", "10.0.2.1", ""),
			netpoltest.Pod("other/monitor", "app=prometheus,role=monitoring", "10.0.2.2", ""),
			netpoltest.Pod("kube-system/coredns", "k8s-app=kube-dns", "10.0.3.1", "dns:53/UDP dns-tcp:53/TCP"),
		},
	}
}

// exampleExternals are the addresses outside the pods: a client on the
// internet and the API server.
var exampleExternals = []netip.Addr{netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("172.18.0.2")}

// exampleProbes are the probes every table covers.
var exampleProbes = []string{"TCP/8080", "TCP/9090", "TCP/5432", "UDP/53", "TCP/53", "TCP/6443"}

// line is a parsed line of an expected connectivity table.
type line struct {
	text     string
	allowed  bool
	from, to string
	probes   []netpol.Probe // nil: every probe
}

func parseLine(s string) (line, error) {
	l := line{text: s}
	f := strings.Fields(s)
	if len(f) != 4 && len(f) != 5 || f[2] != "->" {
		return l, fmt.Errorf("%q: want VERDICT FROM -> TO [PROBE,...]", s)
	}
	switch f[0] {
	case "allowed":
		l.allowed = true
	case "denied":
	default:
		return l, fmt.Errorf("%q: verdict must be allowed or denied", s)
	}
	l.from, l.to = f[1], f[3]
	if len(f) == 5 {
		for _, p := range strings.Split(f[4], ",") {
			probe, err := netpol.ParseProbe(p)
			if err != nil {
				return l, fmt.Errorf("%q: %w", s, err)
			}
			l.probes = append(l.probes, probe)
		}
	}
	return l, nil
}

// matches reports whether a pattern ("*", "ns/*", an ID or an address)
// matches an endpoint.
func matches(pattern string, ep netpol.Endpoint) bool {
	if pattern == "*" {
		return true
	}
	if ns, ok := strings.CutSuffix(pattern, "/*"); ok {
		return ep.Kind != netpol.EndpointExternal && ep.Namespace == ns
	}
	return ep.ID() == pattern
}

func (l line) covers(from, to netpol.Endpoint, p netpol.Probe) bool {
	return matches(l.from, from) && matches(l.to, to) && (l.probes == nil || slices.Contains(l.probes, p))
}

// renderExample renders an example's policies: its With recipes, then the
// recipe itself.
func renderExample(t *testing.T, r recipes.Recipe) []networkingv1.NetworkPolicy {
	t.Helper()
	ns := cmp.Or(r.Example.Namespace, "shop")
	var pols []networkingv1.NetworkPolicy
	uses := append(slices.Clone(r.Example.With), recipes.Use{Recipe: r.Name, Set: r.Example.Set})
	for _, u := range uses {
		ur, err := recipes.Get(u.Recipe)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ur.Render(ns, u.Set)
		if err != nil {
			t.Fatalf("rendering %s: %v", u.Recipe, err)
		}
		pols = append(pols, out.Policies...)
	}
	return pols
}

// TestExampleConnectivity renders every recipe's example on the example
// cluster and checks every connection, for every probe, against the
// recipe's expected table.
func TestExampleConnectivity(t *testing.T) {
	all, err := recipes.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		t.Run(r.Name, func(t *testing.T) {
			snap := exampleCluster()
			snap.Policies = renderExample(t, r)
			eng, err := simulate.Compile(snap, simulate.Options{Externals: exampleExternals})
			if err != nil {
				t.Fatalf("compiling the rendered policies: %v", err)
			}
			checkTable(t, eng, r.Example.Connectivity)
		})
	}
}

// checkTable fails t with every connection whose verdict differs from
// the table, and every line of the table that decides no connection.
func checkTable(t *testing.T, eng *simulate.Engine, table []string) {
	t.Helper()
	problems, err := tableProblems(eng, table)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range problems {
		if i == 20 {
			t.Errorf("... and %d more", len(problems)-i)
			break
		}
		t.Error(p)
	}
}

func tableProblems(eng *simulate.Engine, table []string) ([]string, error) {
	var lines []line
	for _, s := range table {
		l, err := parseLine(s)
		if err != nil {
			return nil, err
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 || lines[0].from != "*" || lines[0].to != "*" || lines[0].probes != nil {
		return nil, fmt.Errorf("the table must start with the default: allowed|denied * -> *")
	}
	var problems []string
	used := make([]bool, len(lines))
	eps := eng.Endpoints()
	for i, from := range eps {
		for j, to := range eps {
			if i == j || from.Kind == netpol.EndpointExternal && to.Kind == netpol.EndpointExternal {
				continue
			}
			for _, ps := range exampleProbes {
				p := netpoltest.Probe(ps)
				want := 0
				for k, l := range lines {
					if l.covers(from, to, p) {
						want = k
					}
				}
				used[want] = true
				got := eng.Evaluate(simulate.EndpointID(i), simulate.EndpointID(j), p).Verdict == simulate.Allowed
				if got != lines[want].allowed {
					problems = append(problems, fmt.Sprintf("%s -> %s %s: allowed=%v, want %v (line %q)",
						from.ID(), to.ID(), ps, got, lines[want].allowed, lines[want].text))
				}
			}
		}
	}
	for k, u := range used {
		if !u {
			problems = append(problems, fmt.Sprintf("line %q decides no connection: a typo, or hidden by a later line", lines[k].text))
		}
	}
	return problems, nil
}

// TestExampleClusterOpen checks the baseline: without policies, everything
// in the example cluster is allowed, so every exception of a table is the
// recipe's doing.
func TestExampleClusterOpen(t *testing.T) {
	eng, err := simulate.Compile(exampleCluster(), simulate.Options{Externals: exampleExternals})
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, eng, []string{"allowed * -> *"})
}

// TestTableChecker makes sure the checker can fail: a wrong table for
// deny-all-to-app reports the connections it gets wrong.
func TestTableChecker(t *testing.T) {
	r, err := recipes.Get("deny-all-to-app")
	if err != nil {
		t.Fatal(err)
	}
	snap := exampleCluster()
	snap.Policies = renderExample(t, r)
	eng, err := simulate.Compile(snap, simulate.Options{Externals: exampleExternals})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := tableProblems(eng, []string{"allowed * -> *", "denied * -> shop/nosuchpod"})
	if err != nil {
		t.Fatal(err)
	}
	// 7 other endpoints -> shop/web on 6 probes, and the unused line.
	if len(problems) != 7*6+1 {
		t.Errorf("got %d problems, want %d:\n%s", len(problems), 7*6+1, strings.Join(problems, "\n"))
	}
}
