package render_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/simulate"
)

// engine compiles a small cluster: x/a and x/b talk to y, where y/web takes
// port http from namespace x only, y/db nothing, and y/open is not isolated.
func engine(t *testing.T, o simulate.Options) *simulate.Engine {
	t.Helper()
	snap := &netpol.Snapshot{
		Namespaces: []corev1.Namespace{netpoltest.Namespace("x", "team=x"), netpoltest.Namespace("y", "")},
		Pods: []corev1.Pod{
			netpoltest.Pod("x/a", "app=a", "10.0.1.1", ""),
			netpoltest.Pod("x/b", "app=b", "10.0.1.2", ""),
			netpoltest.Pod("y/web", "app=web", "10.0.2.1", "http:8080"),
			netpoltest.Pod("y/db", "app=db", "10.0.2.2", "5432"),
			netpoltest.Pod("z/open", "app=open", "10.0.3.1", "80"),
		},
		Services: []corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "y", Name: "web"},
			Spec: corev1.ServiceSpec{
				ClusterIP: "10.96.0.1", Selector: map[string]string{"app": "web"},
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}},
			},
		}},
		Policies: []networkingv1.NetworkPolicy{
			netpoltest.Policy(`{metadata: {namespace: "y", name: deny}, spec: {podSelector: {}}}`),
			netpoltest.Policy(`
metadata: {namespace: "y", name: allow-web}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: x}}}]
    ports: [{port: http}]`),
			netpoltest.Policy(`
metadata: {namespace: x, name: egress}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.3.0/24]}}]`),
		},
	}
	eng, err := simulate.Compile(snap, o)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func lookup(t *testing.T, eng *simulate.Engine, name string) simulate.EndpointID {
	t.Helper()
	id, ok := eng.Lookup(name)
	if !ok {
		t.Fatalf("no endpoint %q", name)
	}
	return id
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	netpoltest.Golden(t, filepath.Join("testdata", name+".golden"), got)
}

// grid is a synthetic matrix of n pods and two externals with a fixed
// pattern of verdicts; the first and third probes have the same verdicts.
func grid(n int) render.Matrix {
	m := render.Matrix{Probes: []netpol.Probe{netpoltest.Probe("TCP/80"), netpoltest.Probe("UDP/53"), netpoltest.Probe("TCP/443")}}
	for i := range n {
		m.Endpoints = append(m.Endpoints, netpol.Endpoint{Kind: netpol.EndpointPod, Namespace: "ns", Name: fmt.Sprintf("pod-%02d", i)})
	}
	m.Endpoints = append(m.Endpoints, netpol.External(netip.MustParseAddr("192.0.2.1")), netpol.External(netip.MustParseAddr("192.0.2.2")))
	m.Allowed = func(i, j, k int) bool { return (i+2*j+k%2)%3 != 0 }
	return m
}

func TestMatrixTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		color bool
	}{
		{"matrix_small", 3, false},
		{"matrix_12", 12, false},
		{"matrix_small_color", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.MatrixTable(&b, grid(tc.n), render.Options{Color: tc.color}); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

// matrixDoc is the JSON contract of `netpol matrix -o json`.
type matrixDoc struct {
	Probes  []string `json:"probes"`
	Results []struct {
		From    string `json:"from"`
		To      string `json:"to"`
		Probe   string `json:"probe"`
		Allowed bool   `json:"allowed"`
	} `json:"results"`
}

func TestMatrixJSON(t *testing.T) {
	eng := engine(t, simulate.Options{Externals: []netip.Addr{netip.MustParseAddr("192.0.2.9")}})
	var ids []simulate.EndpointID
	for i := range eng.Endpoints() {
		ids = append(ids, simulate.EndpointID(i))
	}
	probes := []netpol.Probe{netpoltest.Probe("TCP/8080"), netpoltest.Probe("TCP/80")}
	m := eng.Matrix(ids, probes)
	var b bytes.Buffer
	if err := render.MatrixJSON(&b, render.Matrix{Endpoints: eng.Endpoints(), Probes: probes, Allowed: m.Allowed}); err != nil {
		t.Fatal(err)
	}
	golden(t, "matrix.json", b.Bytes())

	var doc matrixDoc
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not the JSON contract: %v", err)
	}
	// 6 endpoints: 6*5 ordered pairs, none between two externals, 2 probes.
	if got, want := len(doc.Results), 6*5*2; got != want {
		t.Errorf("%d results, want %d", got, want)
	}
	if diff := cmp.Diff([]string{"TCP/8080", "TCP/80"}, doc.Probes); diff != "" {
		t.Errorf("probes (-want +got):\n%s", diff)
	}
}

func TestMatrixJSONEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := render.MatrixJSON(&b, render.Matrix{Probes: []netpol.Probe{netpoltest.Probe("TCP/80")}}); err != nil {
		t.Fatal(err)
	}
	var doc matrixDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc.Results == nil {
		t.Errorf("empty matrix: %v, %q", err, b.String())
	}
}

func TestExplanation(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, probe string
		ignorePods            bool
	}{
		{"explain_denied", "x/a", "y/db", "TCP/5432", false},
		{"explain_allowed", "x/a", "y/web", "TCP/8080", false},
		{"explain_port_miss", "x/b", "y/web", "TCP/9090", false},
		{"explain_open", "y/web", "z/open", "TCP/80", false},
		{"explain_external", "192.0.2.9", "y/web", "TCP/8080", false},
		{"explain_ipblock_ignores_pods", "x/b", "y/web", "TCP/8080", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := engine(t, simulate.Options{IPBlockIgnoresPods: tc.ignorePods, Externals: []netip.Addr{netip.MustParseAddr("192.0.2.9")}})
			x := eng.Explain(lookup(t, eng, tc.from), lookup(t, eng, tc.to), netpoltest.Probe(tc.probe))
			var text, js bytes.Buffer
			if err := render.ExplanationText(&text, x, render.Options{}); err != nil {
				t.Fatal(err)
			}
			if err := render.ExplanationJSON(&js, x); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, text.Bytes())
			golden(t, tc.name+".json", js.Bytes())
		})
	}
}

func TestServiceExplanation(t *testing.T) {
	eng := engine(t, simulate.Options{})
	src := lookup(t, eng, "x/a")
	for _, tc := range []struct {
		name, probe string
	}{
		{"service", "TCP/80"},
		{"service_no_port", "TCP/81"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := netpoltest.Probe(tc.probe)
			se := render.ServiceExplanation{From: "x/a", IP: "10.96.0.1", Service: "y/web", Probe: p}
			targets, ok := eng.ServiceTargets(netip.MustParseAddr("10.96.0.1"), p)
			if !ok {
				se.Problem = "has no port " + p.String()
			}
			for _, tg := range targets {
				se.Backends = append(se.Backends, eng.Explain(src, tg.Endpoint, tg.Probe))
			}
			var text, js bytes.Buffer
			if err := render.ServiceExplanationText(&text, se, render.Options{}); err != nil {
				t.Fatal(err)
			}
			if err := render.ServiceExplanationJSON(&js, se); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, text.Bytes())
			golden(t, tc.name+".json", js.Bytes())
		})
	}
}

func TestReason(t *testing.T) {
	eng := engine(t, simulate.Options{})
	for _, tc := range []struct{ from, to, probe, want string }{
		{"x/a", "y/web", "TCP/8080", "y/allow-web ingress[0]"},
		{"x/b", "y/web", "TCP/8080", "x/egress egress[0], y/allow-web ingress[0]"},
		{"x/a", "y/db", "TCP/5432", "ingress isolated: no rule of y/deny"},
		{"x/b", "y/web", "TCP/9090", "ingress isolated: no rule of y/allow-web, y/deny"},
		{"x/b", "z/open", "TCP/80", "egress isolated: no rule of x/egress"},
		{"y/web", "z/open", "TCP/80", "not isolated"},
		{"x/a", "x/a", "TCP/80", "same endpoint"},
	} {
		t.Run(tc.from+"->"+tc.to, func(t *testing.T) {
			x := eng.Explain(lookup(t, eng, tc.from), lookup(t, eng, tc.to), netpoltest.Probe(tc.probe))
			if got := render.Reason(x, eng.Policies()); got != tc.want {
				t.Errorf("Reason = %q, want %q", got, tc.want)
			}
		})
	}
}

func verdicts() []render.Verdict {
	return []render.Verdict{
		{From: "x/a", To: "y/web", Probe: "TCP/8080", Allowed: true, Reason: "y/allow-web ingress[0]", Expect: "allowed", Source: "c.txt:1"},
		{From: "x/a", To: "y/db", Probe: "TCP/5432", Reason: "ingress isolated: no rule of y/deny", Expect: "allowed", Source: "c.txt:2"},
		{From: "x/a", To: "10.96.0.1", Probe: "TCP/80", Service: "y/web", Backend: "y/web", BackendProbe: "TCP/8080", Allowed: true, Reason: "y/allow-web ingress[0]", Source: "c.txt:3"},
		{From: "x/a", To: "10.96.0.1", Probe: "TCP/81", Service: "y/web", Reason: "service y/web has no port TCP/81", Expect: "denied", Source: "c.txt:4"},
	}
}

func TestSimulate(t *testing.T) {
	var table, js, plain bytes.Buffer
	if err := render.SimulateTable(&table, verdicts(), render.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := render.SimulateJSON(&js, verdicts()); err != nil {
		t.Fatal(err)
	}
	if err := render.SimulateTable(&plain, verdicts()[2:3], render.Options{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "simulate", table.Bytes())
	golden(t, "simulate.json", js.Bytes())
	golden(t, "simulate_no_expect", plain.Bytes())
	if got := render.Unmet(verdicts()); got != 1 {
		t.Errorf("Unmet = %d, want 1", got)
	}
}
