package generate_test

import (
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol/generate"
)

// TestVerifyCatches breaks a correct result in the ways a generator could
// and checks that Verify reports each break as the right guarantee.
func TestVerifyCatches(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mutate     func(nps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy
		denied     string // a fault that must be reported as denied
		unexpected string // ... as unexpected
	}{
		{"ingress rule dropped", func(nps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			np := find(nps, "shop", "redis")
			np.Spec.Ingress = nil
			return nps
		}, "shop/cart -> shop/redis TCP/6379", ""},
		{"wrong DNS labels", func(nps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			np := find(nps, "shop", "allow-dns")
			np.Spec.Egress[0].To[0].PodSelector.MatchLabels = map[string]string{"k8s-app": "coredns"}
			return nps
		}, "shop/cart -> kube-system/coredns UDP/53", ""},
		{"peers widened to whole namespaces", func(nps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			find(nps, "frontend", "web").Spec.Egress[0].To[0].PodSelector = &metav1.LabelSelector{}
			redis := find(nps, "shop", "redis")
			redis.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
			redis.Spec.Ingress[0].Ports = nil
			return nps
		}, "", "frontend/web -> shop/redis TCP/8080"},
		{"port dropped from a rule", func(nps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			np := find(nps, "frontend", "web")
			np.Spec.Egress[0].Ports = nil
			find(nps, "shop", "cart").Spec.Ingress[0].Ports = nil
			return nps
		}, "", "frontend/web -> shop/cart TCP/1"},
		{"default deny lost", func(nps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
			var out []networkingv1.NetworkPolicy
			for _, np := range nps {
				if np.Namespace != "monitoring" {
					out = append(out, np)
				}
			}
			return out
		}, "", "monitoring/prometheus -> reports/builder TCP/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadCase(t, filepath.Join("testdata", "basic.txtar"))
			r, err := generate.Policies(c.g, c.snap, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			r.Policies = tc.mutate(r.Policies)
			check, err := generate.Verify(c.g, c.snap, r)
			if err != nil {
				t.Fatal(err)
			}
			if check.OK() {
				t.Fatal("Verify passed a broken result")
			}
			if tc.denied != "" && !hasFault(check.Denied, tc.denied) {
				t.Errorf("no denied fault %q in %v", tc.denied, check.Denied)
			}
			if tc.unexpected != "" && !hasFault(check.Unexpected, tc.unexpected) {
				t.Errorf("no unexpected fault %q in %v", tc.unexpected, check.Unexpected)
			}
		})
	}
}

func find(nps []networkingv1.NetworkPolicy, ns, name string) *networkingv1.NetworkPolicy {
	for i := range nps {
		if nps[i].Namespace == ns && nps[i].Name == name {
			return &nps[i]
		}
	}
	panic("no policy " + ns + "/" + name)
}

func hasFault(fs []generate.Fault, prefix string) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.String(), prefix) {
			return true
		}
	}
	return false
}
