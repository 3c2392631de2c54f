package generate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
)

// The Cilium policy types below are the subset of cilium.io/v2 that
// generate writes, with the JSON names of Cilium's API (pkg/policy/api), so
// that the core does not depend on Cilium's module.

// CiliumNetworkPolicy is a cilium.io/v2 CiliumNetworkPolicy.
type CiliumNetworkPolicy struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       CiliumRule        `json:"spec"`
}

// CiliumRule is a policy rule: the endpoints it selects and what they may
// receive and send. An empty rule in Ingress or Egress isolates that
// direction without allowing anything.
type CiliumRule struct {
	EndpointSelector CiliumSelector      `json:"endpointSelector"`
	Ingress          []CiliumIngressRule `json:"ingress,omitempty"`
	Egress           []CiliumEgressRule  `json:"egress,omitempty"`
}

// CiliumSelector selects endpoints by labels; the empty selector selects
// every endpoint of the policy's namespace.
type CiliumSelector struct {
	MatchLabels      map[string]string                 `json:"matchLabels,omitempty"`
	MatchExpressions []metav1.LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// CiliumIngressRule allows traffic from its peers on its ports.
type CiliumIngressRule struct {
	FromEndpoints []CiliumSelector `json:"fromEndpoints,omitempty"`
	FromCIDRSet   []CiliumCIDR     `json:"fromCIDRSet,omitempty"`
	FromEntities  []string         `json:"fromEntities,omitempty"`
	ToPorts       []CiliumPortRule `json:"toPorts,omitempty"`
}

// CiliumEgressRule allows traffic to its peers on its ports.
type CiliumEgressRule struct {
	ToEndpoints []CiliumSelector `json:"toEndpoints,omitempty"`
	ToCIDRSet   []CiliumCIDR     `json:"toCIDRSet,omitempty"`
	ToEntities  []string         `json:"toEntities,omitempty"`
	ToFQDNs     []CiliumFQDN     `json:"toFQDNs,omitempty"`
	ToPorts     []CiliumPortRule `json:"toPorts,omitempty"`
}

// CiliumCIDR is an address block.
type CiliumCIDR struct {
	CIDR string `json:"cidr"`
}

// CiliumFQDN matches DNS names: one name, or a pattern with "*".
type CiliumFQDN struct {
	MatchName    string `json:"matchName,omitempty"`
	MatchPattern string `json:"matchPattern,omitempty"`
}

// CiliumPortRule is a list of ports and, for DNS, the names the DNS proxy
// lets through.
type CiliumPortRule struct {
	Ports []CiliumPort `json:"ports,omitempty"`
	Rules *CiliumL7    `json:"rules,omitempty"`
}

// CiliumPort is a port number or name, an optional end of range, and a
// protocol.
type CiliumPort struct {
	Port     string `json:"port"`
	EndPort  int32  `json:"endPort,omitempty"`
	Protocol string `json:"protocol"`
}

// CiliumL7 holds layer 7 rules; generate writes DNS rules only.
type CiliumL7 struct {
	DNS []CiliumFQDN `json:"dns,omitempty"`
}

// ciliumNamespaceLabel is the label Cilium gives every endpoint: its
// namespace.
const ciliumNamespaceLabel = "k8s:io.kubernetes.pod.namespace"

// Cilium returns the result as CiliumNetworkPolicies, one per
// NetworkPolicy with the same name and meaning, in the same order: pods
// by endpoint selectors (with their namespace label), address blocks by
// CIDR sets, the API server, nodes and addresses of unknown owner by
// entities (kube-apiserver, host, remote-node, world), and external
// addresses that flows resolved through DNS by toFQDNs names instead of
// their addresses. allow-dns carries the DNS proxy rule (every name) that
// toFQDNs needs. The simulator checks the NetworkPolicies; the Cilium
// policies are written from the same rules.
func (r *Result) Cilium() []CiliumNetworkPolicy {
	var out []CiliumNetworkPolicy
	for _, p := range r.plans {
		out = append(out, p.cilium())
	}
	return out
}

func (p *policyPlan) cilium() CiliumNetworkPolicy {
	c := CiliumNetworkPolicy{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy", Metadata: p.objectMeta(),
		Spec: CiliumRule{EndpointSelector: CiliumSelector{MatchLabels: maps.Clone(p.selector)}}}
	if p.kind == kindDeny {
		c.Spec.Ingress, c.Spec.Egress = []CiliumIngressRule{{}}, []CiliumEgressRule{{}}
		if len(c.Metadata.Annotations) == 0 {
			c.Metadata.Annotations = nil
		}
		return c
	}
	ev := map[string][]Evidence{}
	for _, r := range p.ingress {
		for _, part := range p.ciliumParts(r, true) {
			ev[fmt.Sprintf("ingress-%d", len(c.Spec.Ingress))] = part.evidence
			c.Spec.Ingress = append(c.Spec.Ingress, CiliumIngressRule{FromEndpoints: part.endpoints, FromCIDRSet: part.cidrs,
				FromEntities: part.entities, ToPorts: part.ports})
		}
	}
	for _, r := range p.egress {
		for _, part := range p.ciliumParts(r, false) {
			ev[fmt.Sprintf("egress-%d", len(c.Spec.Egress))] = part.evidence
			c.Spec.Egress = append(c.Spec.Egress, CiliumEgressRule{ToEndpoints: part.endpoints, ToCIDRSet: part.cidrs,
				ToEntities: part.entities, ToFQDNs: part.fqdns, ToPorts: part.ports})
		}
	}
	setEvidence(c.Metadata.Annotations, ev)
	if len(c.Metadata.Annotations) == 0 {
		c.Metadata.Annotations = nil
	}
	return c
}

// ciliumPart is one Cilium rule made from a rule: Cilium rules hold one
// kind of peer each.
type ciliumPart struct {
	endpoints []CiliumSelector
	cidrs     []CiliumCIDR
	entities  []string
	fqdns     []CiliumFQDN
	ports     []CiliumPortRule
	who       map[string]bool // the Evidence.Peer values it covers
	evidence  []Evidence
}

// ciliumParts splits r by kind of peer: endpoints, entities, address
// blocks, names (egress only); each part has r's ports.
func (p *policyPlan) ciliumParts(r *rulePlan, ingress bool) []*ciliumPart {
	var ep, ent, cidr, fqdn ciliumPart
	for _, part := range []*ciliumPart{&ep, &ent, &cidr, &fqdn} {
		part.who = map[string]bool{}
	}
	for _, pe := range r.peers {
		switch {
		case pe.kind == peerPods && pe.anyNamespace:
			ep.endpoints = append(ep.endpoints, CiliumSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: ciliumNamespaceLabel, Operator: metav1.LabelSelectorOpExists}}})
		case pe.kind == peerPods:
			sel := maps.Clone(pe.labels)
			if sel == nil {
				sel = map[string]string{}
			}
			sel[ciliumNamespaceLabel] = pe.namespace
			ep.endpoints = append(ep.endpoints, CiliumSelector{MatchLabels: sel})
			for _, n := range pe.nodes {
				ep.who[display(n)] = true
			}
		case pe.kind == peerEntity:
			ent.entities = append(ent.entities, pe.entities...)
			for _, e := range pe.entities {
				ent.who[e] = true
			}
			for _, n := range pe.nodes {
				ent.who[display(n)] = true
			}
		case !ingress && len(pe.names) > 0:
			for _, n := range pe.names {
				fqdn.fqdns = append(fqdn.fqdns, CiliumFQDN{MatchName: n})
			}
			for _, a := range pe.addrs {
				fqdn.who[a.String()] = true
			}
		default:
			for _, pr := range pe.prefixes {
				cidr.cidrs = append(cidr.cidrs, CiliumCIDR{CIDR: pr.String()})
			}
			for _, a := range pe.addrs {
				cidr.who[a.String()] = true
			}
		}
	}
	slices.Sort(ent.entities)
	ent.entities = slices.Compact(ent.entities)
	slices.SortFunc(fqdn.fqdns, func(a, b CiliumFQDN) int { return cmp.Compare(a.MatchName, b.MatchName) })
	fqdn.fqdns = slices.Compact(fqdn.fqdns)
	ports := ciliumPorts(r)
	var out []*ciliumPart
	for _, part := range []*ciliumPart{&ep, &ent, &cidr, &fqdn} {
		if len(part.endpoints)+len(part.entities)+len(part.cidrs)+len(part.fqdns) > 0 {
			part.ports = ports
			out = append(out, part)
		}
	}
	for _, ev := range r.evidence {
		placed := false
		for _, part := range out {
			if part.who[ev.Peer] {
				part.evidence, placed = append(part.evidence, ev), true
				break
			}
		}
		if !placed && len(out) > 0 {
			out[0].evidence = append(out[0].evidence, ev)
		}
	}
	return out
}

// ciliumPorts renders r's ports, with the DNS proxy rule on a DNS rule.
func ciliumPorts(r *rulePlan) []CiliumPortRule {
	if len(r.ports) == 0 {
		return nil
	}
	pr := CiliumPortRule{}
	for _, ps := range r.ports {
		cp := CiliumPort{Port: strconv.Itoa(int(ps.port)), Protocol: ps.protocol.String()}
		if ps.name != "" {
			cp.Port = ps.name
		}
		if ps.end > ps.port {
			cp.EndPort = int32(ps.end)
		}
		pr.Ports = append(pr.Ports, cp)
	}
	if r.dns && hasEgressDNS(r) {
		pr.Rules = &CiliumL7{DNS: []CiliumFQDN{{MatchPattern: "*"}}}
	}
	return []CiliumPortRule{pr}
}

// hasEgressDNS reports whether r is a DNS rule towards the cluster DNS
// (not the DNS pods' own ingress, which needs no proxy rule).
func hasEgressDNS(r *rulePlan) bool {
	for _, p := range r.peers {
		if p.anyNamespace {
			return false
		}
	}
	return slices.ContainsFunc(r.ports, func(ps portSpec) bool {
		return ps.protocol == netpol.ProtocolUDP || ps.protocol == netpol.ProtocolTCP
	})
}
