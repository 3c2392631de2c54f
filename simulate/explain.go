package simulate

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/netpol/netpol"
)

// Explanation is a verdict with every reason behind it: for each direction,
// the policies that select the subject and, for each of their rules, which
// peer and port matched or why none did.
type Explanation struct {
	From   netpol.Endpoint `json:"-"`
	To     netpol.Endpoint `json:"-"`
	Probe  netpol.Probe    `json:"-"`
	Result Result          `json:"-"`
	// IPBlockMatchesPods records the semantics that applied to ipBlock peers.
	IPBlockMatchesPods bool           `json:"ipBlockMatchesPods"`
	Egress             DirectionTrace `json:"egress"`
	Ingress            DirectionTrace `json:"ingress"`
}

// DirectionTrace explains one direction of a connection.
type DirectionTrace struct {
	Direction Direction `json:"-"`
	// Subject is the endpoint whose policies decide this direction: the
	// source for egress, the destination for ingress.
	Subject  string        `json:"subject"`
	Decision Decision      `json:"-"`
	Policies []PolicyTrace `json:"policies,omitempty"`
	Summary  string        `json:"summary"`
}

// PolicyTrace is one policy that selects the subject for the direction.
type PolicyTrace struct {
	Policy PolicyRef   `json:"-"`
	Name   string      `json:"policy"`
	Rules  []RuleTrace `json:"rules,omitempty"`
}

// RuleTrace is one rule of a policy, with each peer and port checked.
type RuleTrace struct {
	Index    int     `json:"index"`
	Allowed  bool    `json:"allowed"`
	AllPeers bool    `json:"allPeers,omitempty"`
	AllPorts bool    `json:"allPorts,omitempty"`
	Peers    []Check `json:"peers,omitempty"`
	Ports    []Check `json:"ports,omitempty"`
}

// Check is one peer or port of a rule and whether it matched, in words.
type Check struct {
	Matched bool   `json:"matched"`
	Text    string `json:"text"`
}

// Explain evaluates a connection like Evaluate and returns every reason.
func (e *Engine) Explain(src, dst EndpointID, p netpol.Probe) Explanation {
	x := Explanation{Probe: p, Result: e.Evaluate(src, dst, p), IPBlockMatchesPods: !e.opts.IPBlockIgnoresPods}
	if x.Result.Verdict == VerdictUnknown {
		return x
	}
	x.From, x.To = e.endpoints[src], e.endpoints[dst]
	x.Egress = e.trace(Egress, src, dst, p, x.Result.Egress)
	x.Ingress = e.trace(Ingress, dst, src, p, x.Result.Ingress)
	return x
}

func (e *Engine) trace(d Direction, subject, other EndpointID, p netpol.Probe, dec Decision) DirectionTrace {
	sub, oth := &e.endpoints[subject], &e.endpoints[other]
	t := DirectionTrace{Direction: d, Subject: sub.ID(), Decision: dec}
	dst := sub
	if d == Egress {
		dst = oth
	}
	c := &e.classes[e.classOf[subject]]
	pols := c.ingress
	if d == Egress {
		pols = c.egress
	}
	var names []string
	for _, pi := range pols {
		pol := &e.policies[pi]
		names = append(names, pol.id())
		pt := PolicyTrace{Policy: PolicyRef{pol.namespace, pol.name}, Name: pol.id()}
		for ri := range pol.rules(d) {
			pt.Rules = append(pt.Rules, e.traceRule(&pol.rules(d)[ri], ri, oth, dst, p))
		}
		t.Policies = append(t.Policies, pt)
	}
	t.Summary = e.summary(d, sub, oth, p, dec, names, t.Policies)
	return t
}

func (e *Engine) traceRule(r *rule, index int, other, dst *netpol.Endpoint, p netpol.Probe) RuleTrace {
	rt := RuleTrace{Index: index, AllPeers: r.allPeers, AllPorts: r.allPorts}
	peerOK := r.allPeers
	for _, pi := range r.peers {
		ok, text := e.checkPeer(&e.peers[pi], other)
		peerOK = peerOK || ok
		rt.Peers = append(rt.Peers, Check{ok, text})
	}
	portOK := r.allPorts
	for i := range r.ports {
		ok := r.ports[i].matches(p, policyPorts(dst))
		portOK = portOK || ok
		rt.Ports = append(rt.Ports, Check{ok, portText(&r.ports[i], dst)})
	}
	rt.Allowed = peerOK && portOK
	return rt
}

func (e *Engine) checkPeer(pr *peer, ep *netpol.Endpoint) (bool, string) {
	desc := peerText(pr)
	if pr.kind == peerIPBlock {
		ok := e.ipBlockMatches(pr, ep)
		switch {
		case ep.Kind == netpol.EndpointTemplate && !e.opts.IPBlockIgnoresPods:
			return ok, desc + ": " + ep.ID() + " has no address yet; matched only when the block holds every pod address"
		case selectable(ep) && e.opts.IPBlockIgnoresPods:
			return false, desc + ": ipBlock does not match pod addresses here (--ipblock-matches-pods=false)"
		case !ep.IP().IsValid():
			return false, desc + ": " + ep.ID() + " has no address"
		case ok && selectable(ep):
			return true, desc + ": pod address " + ep.IP().String() + " is inside (ipBlock matches pod IPs)"
		case ok:
			return true, desc + ": " + ep.IP().String() + " is inside"
		case pr.cidr.Contains(ep.IP()):
			return false, desc + ": " + ep.IP().String() + " is in an except range"
		}
		return false, desc + ": " + ep.IP().String() + " is outside"
	}
	ok := pr.labelMatches(ep)
	switch {
	case ok:
		return true, desc + ": matches " + ep.ID()
	case ep.Kind == netpol.EndpointExternal:
		return false, desc + ": " + ep.ID() + " is not a pod"
	case ep.HostNetwork:
		return false, desc + ": " + ep.ID() + " uses the host network and is never selected"
	case pr.kind == peerPods && ep.Namespace != pr.namespace:
		return false, desc + ": " + ep.ID() + " is in another namespace"
	case pr.kind != peerPods && !pr.namespaces.Matches(labels.Set(ep.NamespaceLabels)):
		return false, desc + ": namespace " + ep.Namespace + " not selected"
	}
	return false, desc + ": labels of " + ep.ID() + " not selected"
}

func selText(s labels.Selector) string {
	if s.Empty() {
		return "{}"
	}
	return "{" + s.String() + "}"
}

func peerText(pr *peer) string {
	switch pr.kind {
	case peerPods:
		return "podSelector " + selText(pr.pods) + " in " + pr.namespace
	case peerNamespaces:
		return "namespaceSelector " + selText(pr.namespaces)
	case peerPodsInNamespaces:
		return "namespaceSelector " + selText(pr.namespaces) + " and podSelector " + selText(pr.pods)
	}
	s := "ipBlock " + pr.cidr.String()
	if len(pr.except) > 0 {
		var ex []string
		for _, x := range pr.except {
			ex = append(ex, x.String())
		}
		s += " except " + strings.Join(ex, ",")
	}
	return s
}

func portText(pm *portMatch, dst *netpol.Endpoint) string {
	switch pm.kind {
	case portAll:
		return "any " + pm.protocol.String() + " port"
	case portNumbers:
		if pm.first == pm.last {
			return strconv.Itoa(int(pm.first)) + "/" + pm.protocol.String()
		}
		return strconv.Itoa(int(pm.first)) + "-" + strconv.Itoa(int(pm.last)) + "/" + pm.protocol.String()
	}
	var nums []string
	for _, p := range policyPorts(dst) {
		if p.Name == pm.name && p.Protocol == pm.protocol {
			nums = append(nums, strconv.Itoa(int(p.Port)))
		}
	}
	res := "not a port of " + dst.ID()
	if len(nums) > 0 {
		res = strings.Join(nums, ",") + " on " + dst.ID()
	}
	return pm.name + "/" + pm.protocol.String() + " (" + res + ")"
}

func (e *Engine) summary(d Direction, sub, oth *netpol.Endpoint, p netpol.Probe, dec Decision, names []string, pts []PolicyTrace) string {
	switch dec.Reason {
	case SameEndpoint:
		return "a pod may always connect to itself"
	case NotSubject:
		if sub.Kind == netpol.EndpointExternal {
			return sub.ID() + " is outside the cluster's pods; no policy applies to its " + d.String()
		}
		return sub.ID() + " uses the host network; policies never select it"
	case NotIsolated:
		return "not isolated for " + d.String() + ": no policy selects " + sub.ID() + " with policyType " + titleDir(d)
	case ResidentNode:
		if d == Egress {
			return sub.ID() + " may always connect to its own node " + sub.NodeName
		}
		return sub.ID() + " always accepts connections from its own node " + sub.NodeName
	}
	head := "isolated for " + d.String() + " by " + strings.Join(names, ", ")
	if dec.Reason == RuleMatched {
		pol := &e.policies[dec.Policy]
		s := fmt.Sprintf("%s; %s %s[%d] allows it", head, pol.id(), d, dec.Rule)
		if dec.Peer >= 0 {
			s += fmt.Sprintf(" (peer %d: %s)", dec.Peer, peerText(&e.peers[pol.rules(d)[dec.Rule].peers[dec.Peer]]))
		}
		return s
	}
	var why []string
	for _, pt := range pts {
		if len(pt.Rules) == 0 {
			why = append(why, pt.Name+" has no "+d.String()+" rules")
			continue
		}
		for _, rt := range pt.Rules {
			why = append(why, fmt.Sprintf("%s %s[%d] %s", pt.Name, d, rt.Index, ruleMiss(rt, p)))
		}
	}
	return head + "; " + strings.Join(why, "; ")
}

func titleDir(d Direction) string {
	if d == Ingress {
		return "Ingress"
	}
	return "Egress"
}

func ruleMiss(rt RuleTrace, p netpol.Probe) string {
	peer := "every peer matches"
	if !rt.AllPeers {
		peer = "no peer matched"
		for i, c := range rt.Peers {
			if c.Matched {
				peer = fmt.Sprintf("peer %d matched", i)
				break
			}
		}
	}
	if rt.AllPorts {
		return peer + ", every port matches"
	}
	var ports []string
	matched := false
	for _, c := range rt.Ports {
		ports = append(ports, c.Text)
		matched = matched || c.Matched
	}
	if matched {
		return peer + ", port matched"
	}
	return peer + ", port " + strconv.Itoa(int(p.Port)) + "/" + p.Protocol.String() + " not in [" + strings.Join(ports, ", ") + "]"
}

// String renders the explanation for a terminal:
//
//	x/a -> y/b TCP/80: denied
//	egress (x/a): not isolated for egress: ...
//	ingress (y/b): isolated for ingress by y/deny; y/deny has no ingress rules
func (x Explanation) String() string {
	if x.Result.Verdict == VerdictUnknown {
		return "unknown endpoint"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s %s: %s\n", x.From.ID(), x.To.ID(), x.Probe, x.Result.Verdict)
	for _, t := range []DirectionTrace{x.Egress, x.Ingress} {
		fmt.Fprintf(&b, "  %s (%s): %s: %s\n", t.Direction, t.Subject, t.Decision.Verdict, t.Summary)
		for _, pt := range t.Policies {
			if len(pt.Rules) == 0 {
				fmt.Fprintf(&b, "    %s: no %s rules (denies all)\n", pt.Name, t.Direction)
			}
			for _, rt := range pt.Rules {
				fmt.Fprintf(&b, "    %s %s[%d]: %s\n", pt.Name, t.Direction, rt.Index, yesNo(rt.Allowed, "allows", "does not allow"))
				if rt.AllPeers {
					b.WriteString("      peers: every peer\n")
				}
				for i, c := range rt.Peers {
					fmt.Fprintf(&b, "      peer %d %s %s\n", i, mark(c.Matched), c.Text)
				}
				if rt.AllPorts {
					b.WriteString("      ports: every port\n")
				}
				for _, c := range rt.Ports {
					fmt.Fprintf(&b, "      port %s %s\n", mark(c.Matched), c.Text)
				}
			}
		}
	}
	return b.String()
}

func mark(ok bool) string { return yesNo(ok, "matched:", "no match:") }

func yesNo(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
