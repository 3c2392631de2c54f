package diff

import (
	"fmt"
	"strings"

	"github.com/netpol/netpol/simulate"
)

// directions is a set of directions of a connection.
type directions uint8

const (
	egress directions = 1 << iota
	ingress
)

// reasonKey is what the reasons of a change depend on: the head's classes
// of the pair (which fix the policies that select them), the directions
// explained and their decisions (which fix the rules).
type reasonKey struct {
	src, dst int32
	dirs     directions
	eg, in   simulate.Decision
}

// reasons explains the change from a to b on probe k in the head: for a
// gain, the directions the base denied and the rules that now allow them;
// for a loss, the directions the head denies and why. It returns an index
// into c.reasonSets; equal explanations share one.
func (c *comparison) reasons(a, b int32, k int, before, after State) int32 {
	gained := after > before
	same := a == b
	head, base := c.sides[1], c.sides[0]
	hs, hd, ok := head.find(&c.u.sides[1][a], &c.u.sides[1][b], same, k, gained)
	if !ok {
		return c.reasonSet(nil)
	}
	p := c.probes[k]
	r := head.eng.Evaluate(simulate.EndpointID(hs), simulate.EndpointID(hd), p)
	dirs := denied(r)
	if gained {
		dirs = egress | ingress
		if bs, bd, ok := base.find(&c.u.sides[0][a], &c.u.sides[0][b], same, k, false); ok {
			if d := denied(base.eng.Evaluate(simulate.EndpointID(bs), simulate.EndpointID(bd), p)); d != 0 {
				dirs = d
			}
		}
	}
	key := reasonKey{int32(head.m.Class(int(hs))), int32(head.m.Class(int(hd))), dirs, r.Egress, r.Ingress}
	if i, ok := c.reasonCache[key]; ok {
		return i
	}
	var out []string
	var x *simulate.Explanation
	explain := func() *simulate.Explanation {
		if x == nil {
			e := head.eng.Explain(simulate.EndpointID(hs), simulate.EndpointID(hd), p)
			x = &e
		}
		return x
	}
	pols := c.policies()
	if dirs&egress != 0 {
		out = append(out, reasonText(pols, simulate.Egress, r.Egress, func() simulate.DirectionTrace { return explain().Egress }))
	}
	if dirs&ingress != 0 {
		out = append(out, reasonText(pols, simulate.Ingress, r.Ingress, func() simulate.DirectionTrace { return explain().Ingress }))
	}
	i := c.reasonSet(out)
	c.reasonCache[key] = i
	return i
}

// reasonSet adds a set of reasons and returns its index.
func (c *comparison) reasonSet(rs []string) int32 {
	c.reasonSets = append(c.reasonSets, rs)
	return int32(len(c.reasonSets) - 1)
}

// policies returns the head's policies, which Decision.Policy indexes.
func (c *comparison) policies() []simulate.PolicyRef {
	if c.headPolicies == nil {
		c.headPolicies = c.sides[1].eng.Policies()
	}
	return c.headPolicies
}

// denied returns the directions of r that deny.
func denied(r simulate.Result) directions {
	var d directions
	if r.Egress.Verdict == simulate.Denied {
		d |= egress
	}
	if r.Ingress.Verdict == simulate.Denied {
		d |= ingress
	}
	return d
}

// reasonText says in one line why direction d got decision dec. It names
// policies and rules, never endpoints, so that it holds for every pair of
// the classes. trace is called only when the policies selecting the
// subject are needed.
func reasonText(pols []simulate.PolicyRef, d simulate.Direction, dec simulate.Decision, trace func() simulate.DirectionTrace) string {
	subject := "destination"
	if d == simulate.Egress {
		subject = "source"
	}
	switch dec.Reason {
	case simulate.RuleMatched:
		return fmt.Sprintf("%s allowed by %s %s[%d]", d, pols[dec.Policy], d, dec.Rule)
	case simulate.NotIsolated:
		return fmt.Sprintf("%s allowed: no policy selects the %s for %s", d, subject, d)
	case simulate.NoRuleMatched:
		var names []string
		for _, pt := range trace().Policies {
			names = append(names, pt.Name)
		}
		return fmt.Sprintf("%s denied: the %s is isolated by %s, and no rule allows the connection", d, subject, strings.Join(names, ", "))
	case simulate.NotSubject:
		return fmt.Sprintf("%s allowed: the %s is not a pod that policies select", d, subject)
	case simulate.ResidentNode:
		return fmt.Sprintf("%s allowed: traffic between a pod and its own node always is", d)
	case simulate.SameEndpoint:
		return fmt.Sprintf("%s allowed: a pod may always connect to itself", d)
	}
	return d.String() + " " + dec.Verdict.String()
}
