package simulate

import (
	"fmt"
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
)

// policy is a compiled NetworkPolicy.
type policy struct {
	namespace, name string
	// "policyTypes ... indicates whether this policy applies to ingress
	// traffic, egress traffic or both" (after defaulting).
	ingress, egress bool
	// "podSelector selects the pods to which this NetworkPolicy object
	// applies ... in the policy's namespace. An empty podSelector matches all
	// pods in this namespace."
	subject      labels.Selector
	ingressRules []rule
	egressRules  []rule
}

// id returns "namespace/name".
func (p *policy) id() string { return p.namespace + "/" + p.name }

func (p *policy) rules(d Direction) []rule {
	if d == Ingress {
		return p.ingressRules
	}
	return p.egressRules
}

// rule is a compiled ingress or egress rule. "If this field is empty or
// missing, this rule matches all sources/destinations" (from/to), and "If
// this field is empty or missing, this rule matches all ports" (ports).
type rule struct {
	allPeers bool
	peers    []int32 // indexes into Engine.peers
	allPorts bool
	ports    []portMatch
}

// peerKind names the four kinds of NetworkPolicyPeer.
type peerKind uint8

const (
	// peerPods: "podSelector ... selects pods in the policy's namespace".
	peerPods peerKind = iota + 1
	// peerNamespaces: "namespaceSelector ... selects all pods in the
	// namespaces selected" (an empty selector selects every namespace).
	peerNamespaces
	// peerPodsInNamespaces: "If namespaceSelector is also set, then the
	// NetworkPolicyPeer as a whole selects the pods matching podSelector in
	// the Namespaces selected by NamespaceSelector."
	peerPodsInNamespaces
	// peerIPBlock: "IPBlock defines policy on a particular IPBlock", minus
	// the except ranges.
	peerIPBlock
)

// peer is a compiled NetworkPolicyPeer.
type peer struct {
	kind       peerKind
	namespace  string // the policy's namespace, for peerPods
	pods       labels.Selector
	namespaces labels.Selector
	cidr       netip.Prefix
	except     []netip.Prefix
}

// portKind names the three kinds of NetworkPolicyPort.
type portKind uint8

const (
	// portNumbers: a numeric port, or a range up to endPort inclusive.
	portNumbers portKind = iota + 1
	// portNamed: "a named port on a pod", resolved on the destination pod's
	// container ports with the same protocol.
	portNamed
	// portAll: "If this field is not provided, this matches all port
	// names and numbers" of the given protocol.
	portAll
)

// portMatch is a compiled NetworkPolicyPort.
type portMatch struct {
	kind        portKind
	protocol    netpol.Protocol
	first, last uint16
	name        string
}

// compilePolicy compiles a defaulted and valid policy; peers are appended to
// *peers. An error here means Validate let something through.
func compilePolicy(np *networkingv1.NetworkPolicy, peers *[]peer) (policy, error) {
	p := policy{namespace: np.Namespace, name: np.Name}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.ingress = true
		case networkingv1.PolicyTypeEgress:
			p.egress = true
		}
	}
	var err error
	if p.subject, err = selector(&np.Spec.PodSelector); err != nil {
		return p, fmt.Errorf("spec.podSelector: %w", err)
	}
	for i, r := range np.Spec.Ingress {
		cr, err := compileRule(np.Namespace, r.From, r.Ports, peers)
		if err != nil {
			return p, fmt.Errorf("spec.ingress[%d]: %w", i, err)
		}
		p.ingressRules = append(p.ingressRules, cr)
	}
	for i, r := range np.Spec.Egress {
		cr, err := compileRule(np.Namespace, r.To, r.Ports, peers)
		if err != nil {
			return p, fmt.Errorf("spec.egress[%d]: %w", i, err)
		}
		p.egressRules = append(p.egressRules, cr)
	}
	return p, nil
}

func compileRule(ns string, from []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, peers *[]peer) (rule, error) {
	r := rule{allPeers: len(from) == 0, allPorts: len(ports) == 0}
	for i := range from {
		cp, err := compilePeer(ns, &from[i])
		if err != nil {
			return r, fmt.Errorf("peer %d: %w", i, err)
		}
		r.peers = append(r.peers, int32(len(*peers)))
		*peers = append(*peers, cp)
	}
	for i := range ports {
		pm, err := compilePort(&ports[i])
		if err != nil {
			return r, fmt.Errorf("ports[%d]: %w", i, err)
		}
		r.ports = append(r.ports, pm)
	}
	return r, nil
}

func compilePeer(ns string, p *networkingv1.NetworkPolicyPeer) (peer, error) {
	var err error
	switch {
	case p.IPBlock != nil:
		cp := peer{kind: peerIPBlock}
		if cp.cidr, err = ParseIPBlockCIDR(p.IPBlock.CIDR); err != nil {
			return cp, err
		}
		for _, e := range p.IPBlock.Except {
			x, err := ParseIPBlockCIDR(e)
			if err != nil {
				return cp, err
			}
			cp.except = append(cp.except, x)
		}
		return cp, nil
	case p.PodSelector != nil && p.NamespaceSelector != nil:
		cp := peer{kind: peerPodsInNamespaces}
		if cp.pods, err = selector(p.PodSelector); err != nil {
			return cp, err
		}
		cp.namespaces, err = selector(p.NamespaceSelector)
		return cp, err
	case p.PodSelector != nil:
		cp := peer{kind: peerPods, namespace: ns}
		cp.pods, err = selector(p.PodSelector)
		return cp, err
	case p.NamespaceSelector != nil:
		cp := peer{kind: peerNamespaces}
		cp.namespaces, err = selector(p.NamespaceSelector)
		return cp, err
	}
	return peer{}, fmt.Errorf("peer selects nothing")
}

func compilePort(p *networkingv1.NetworkPolicyPort) (portMatch, error) {
	pm := portMatch{protocol: netpol.ProtocolTCP}
	if p.Protocol != nil {
		var err error
		if pm.protocol, err = netpol.ParseProtocol(string(*p.Protocol)); err != nil {
			return pm, err
		}
	}
	switch {
	case p.Port == nil:
		pm.kind = portAll
	case p.Port.Type == intstr.String:
		pm.kind, pm.name = portNamed, p.Port.StrVal
	default:
		pm.kind = portNumbers
		pm.first, pm.last = uint16(p.Port.IntVal), uint16(p.Port.IntVal)
		if p.EndPort != nil {
			pm.last = uint16(*p.EndPort)
		}
	}
	return pm, nil
}

// selector compiles a label selector with apimachinery semantics (NotIn
// matches a missing key; matchLabels {k: ""} needs k present and empty).
func selector(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}

// matches reports whether a port of the probe's protocol and number, on a
// destination with the given container ports, is allowed by pm. A named port
// never matches a destination without that port (an external address).
func (pm *portMatch) matches(p netpol.Probe, dstPorts []netpol.Port) bool {
	if pm.protocol != p.Protocol {
		return false
	}
	switch pm.kind {
	case portAll:
		return true
	case portNumbers:
		return pm.first <= p.Port && p.Port <= pm.last
	case portNamed:
		for i := range dstPorts {
			dp := &dstPorts[i]
			if dp.Name == pm.name && dp.Protocol == p.Protocol && dp.Port == p.Port {
				return true
			}
		}
	}
	return false
}

func (r *rule) portAllowed(p netpol.Probe, dstPorts []netpol.Port) bool {
	if r.allPorts {
		return true
	}
	for i := range r.ports {
		if r.ports[i].matches(p, dstPorts) {
			return true
		}
	}
	return false
}
