package audit

import (
	"fmt"
	"slices"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// namespaces returns the reported namespaces that have endpoints policies
// can select, sorted, with those endpoints.
func (a *auditor) namespaces() ([]string, map[string][]simulate.EndpointID) {
	byNS := map[string][]simulate.EndpointID{}
	var out []string
	for _, id := range a.subjects() {
		ns := a.eps[id].Namespace
		if _, ok := byNS[ns]; !ok {
			out = append(out, ns)
		}
		byNS[ns] = append(byNS[ns], id)
	}
	slices.Sort(out)
	return out, byNS
}

// defaultDeny reports whether a policy of namespace ns selects every pod
// (an empty podSelector) for direction d without a rule that allows every
// peer on every port.
func (a *auditor) defaultDeny(ns string, d direction) bool {
	for _, p := range a.pols {
		if p.np.Namespace != ns || !d.applies(p) || !emptySelector(&p.np.Spec.PodSelector) {
			continue
		}
		if !slices.ContainsFunc(d.rules(p.np), func(r rule) bool { return len(r.peers) == 0 && len(r.ports) == 0 }) {
			return true
		}
	}
	return false
}

func checkDefaultDenyIngress(a *auditor, c *check) {
	a.checkDefaultDeny(c, ingress, "netpol recipe render default-deny-ingress -n %s, with the allow recipes its workloads need (netpol recipe list)")
}

func checkDefaultDenyEgress(a *auditor, c *check) {
	a.checkDefaultDeny(c, egress, "netpol recipe render default-deny-egress -n %[1]s, with netpol recipe render allow-dns-egress -n %[1]s")
}

func (a *auditor) checkDefaultDeny(c *check, d direction, fix string) {
	nss, byNS := a.namespaces()
	for _, ns := range nss {
		if a.defaultDeny(ns, d) {
			continue
		}
		open := 0
		for _, id := range byNS[ns] {
			of := a.ingressOf
			if d.egress {
				of = a.egressOf
			}
			if len(of[id]) == 0 {
				open++
			}
		}
		a.add(c, Finding{
			Object: Object{Kind: "Namespace", Name: ns},
			Message: fmt.Sprintf("no policy selects every pod of namespace %s for %s (a podSelector {} with policyType %s); %d of its %d %s %s selected by no %s policy",
				ns, d.name, title(d.name), open, len(byNS[ns]), a.kinds(byNS[ns]), isAre(open), d.name),
			Fix: fmt.Sprintf(fix, ns),
		})
	}
}

func title(s string) string { return string(s[0]-'a'+'A') + s[1:] }

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func checkPodNotIsolated(a *auditor, c *check) {
	type group struct {
		obj Object
		ids []simulate.EndpointID
	}
	var groups []*group
	byObj := map[Object]*group{}
	for _, id := range a.subjects() {
		if len(a.ingressOf[id]) > 0 {
			continue
		}
		obj := a.ownerObject(&a.eps[id])
		g, ok := byObj[obj]
		if !ok {
			g = &group{obj: obj}
			byObj[obj] = g
			groups = append(groups, g)
		}
		g.ids = append(g.ids, id)
	}
	for _, g := range groups {
		msg := "selected by no ingress policy: every pod and address may connect to it on any port"
		if g.obj.Kind != "Pod" && a.eps[g.ids[0]].Kind == netpol.EndpointPod {
			msg = fmt.Sprintf("%s (%s: %s)", msg, a.count(g.ids), a.names(g.ids))
		}
		a.add(c, Finding{
			Object:  g.obj,
			Message: msg,
			Fix:     fmt.Sprintf("netpol recipe render default-deny-ingress -n %s, then allow what it needs (netpol recipe list)", g.obj.Namespace),
		})
	}
}

func checkSelectsNothing(a *auditor, c *check) {
	for _, p := range a.pols {
		if len(p.selects) > 0 {
			continue
		}
		a.add(c, Finding{
			Object: p.object(),
			Field:  "spec.podSelector",
			Message: fmt.Sprintf("podSelector %s matches no pod or workload of namespace %s",
				selectorText(&p.np.Spec.PodSelector), p.np.Namespace),
			Fix: fmt.Sprintf("compare with kubectl get pods -n %s --show-labels, then correct spec.podSelector or delete the policy", p.np.Namespace),
		})
	}
}
