package generate_test

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/simulate"
)

// TestDNS generates for namespace app against clusters whose DNS is not the
// textbook kube-dns: every pod of app, even one never seen resolving a name,
// must reach every DNS pod on the port it really listens on, UDP and TCP,
// and nothing that merely looks like DNS.
func TestDNS(t *testing.T) {
	for _, tc := range []struct {
		name     string
		selector map[string]string
		backends []string // pod IDs
		port     uint16
		addrs    []string // addresses allowed on port 53
		denied   []string // pod IDs that must stay unreachable on port 53
	}{
		{"standard", map[string]string{"k8s-app": "kube-dns"}, []string{"kube-system/coredns-7db6d8ff4d-x2x9q"}, 53, nil, nil},
		{"rke2", map[string]string{"app.kubernetes.io/instance": "rke2-coredns", "app.kubernetes.io/name": "rke2-coredns", "k8s-app": "kube-dns"},
			[]string{"kube-system/rke2-coredns-rke2-coredns-5d8f7c9b4-x2x9q"}, 53, nil, nil},
		{"openshift", map[string]string{"dns.operator.openshift.io/daemonset-dns": "default"},
			[]string{"openshift-dns/dns-default-x7k2p", "openshift-dns/dns-default-q4vns"}, 5353, nil, nil},
		{"custom", map[string]string{"app": "coredns-custom"}, []string{"kube-system/coredns-7db6d8ff4d-x2x9q"}, 1053, nil,
			[]string{"decoy/fake-dns-5d8f7c9b4-x2x9q"}},
		{"sliced", map[string]string{"role": "resolver"}, []string{"kube-system/resolver-7db6d8ff4d-x2x9q"}, 8053, nil, nil},
		{"nodelocal", map[string]string{"k8s-app": "kube-dns"}, []string{"kube-system/coredns-7db6d8ff4d-x2x9q"}, 53,
			[]string{"10.96.0.10", "169.254.20.10"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadCase(t, filepath.Join("testdata", "dns", tc.name+".txtar"))
			r, err := generate.Policies(c.g, c.snap, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]map[string]string{tc.selector}, r.DNS.Selectors); diff != "" {
				t.Errorf("DNS selectors (-want +got):\n%s", diff)
			}
			check, err := generate.Verify(c.g, c.snap, r)
			if err != nil {
				t.Fatal(err)
			}
			if !check.OK() {
				t.Errorf("guarantees: %v %v", first(check.Denied), first(check.Unexpected))
			}
			s := *c.snap
			s.Policies = r.Policies
			var externals []netip.Addr
			for _, a := range tc.addrs {
				externals = append(externals, netip.MustParseAddr(a))
			}
			eng, err := simulate.Compile(&s, simulate.Options{Externals: externals})
			if err != nil {
				t.Fatal(err)
			}
			for _, src := range eng.Endpoints() {
				if src.Namespace != "app" {
					continue
				}
				sid, _ := eng.Lookup(src.ID())
				for _, proto := range []netpol.Protocol{netpol.ProtocolUDP, netpol.ProtocolTCP} {
					reach := func(dst string, port uint16, want simulate.Verdict) {
						did, ok := eng.Lookup(dst)
						if !ok {
							t.Fatalf("no endpoint %s", dst)
						}
						p := netpol.Probe{Protocol: proto, Port: port}
						if got := eng.Evaluate(sid, did, p).Verdict; got != want {
							t.Errorf("%s -> %s %s: %s, want %s", src.ID(), dst, p, got, want)
						}
					}
					for _, b := range tc.backends {
						reach(b, tc.port, simulate.Allowed)
					}
					for _, a := range tc.addrs {
						reach(a, 53, simulate.Allowed)
					}
					for _, d := range tc.denied {
						reach(d, 53, simulate.Denied)
					}
				}
			}
			for _, np := range r.Policies {
				if np.Name == "allow-dns" && strings.Contains(np.String(), "kube-dns") && tc.selector["k8s-app"] != "kube-dns" {
					t.Errorf("allow-dns assumes k8s-app=kube-dns: %v", np.Spec.Egress)
				}
			}
		})
	}
}
