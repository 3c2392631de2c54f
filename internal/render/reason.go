package render

import (
	"fmt"
	"strings"

	"github.com/netpol/netpol/simulate"
)

// Reason is the short reason for an explained verdict, as one table cell:
// for an allowed connection the rules that allowed it ("y/allow-web
// ingress[0]"), or "not isolated" when no policy applies; for a denied one
// each denying direction and the policies that isolate it ("ingress
// isolated: no rule of y/deny, y/allow-web"). policies is
// Engine.Policies(), which Decision.Policy indexes.
func Reason(x simulate.Explanation, policies []simulate.PolicyRef) string {
	switch x.Result.Verdict {
	case simulate.Allowed:
		return allowedReason(x, policies)
	case simulate.Denied:
		var parts []string
		for _, t := range []simulate.DirectionTrace{x.Egress, x.Ingress} {
			if t.Decision.Verdict != simulate.Denied {
				continue
			}
			var names []string
			for _, pt := range t.Policies {
				names = append(names, pt.Name)
			}
			parts = append(parts, fmt.Sprintf("%s isolated: no rule of %s", t.Direction, strings.Join(names, ", ")))
		}
		return strings.Join(parts, "; ")
	}
	return "unknown endpoint"
}

func allowedReason(x simulate.Explanation, policies []simulate.PolicyRef) string {
	var parts []string
	for _, t := range []simulate.DirectionTrace{x.Egress, x.Ingress} {
		d := t.Decision
		switch d.Reason {
		case simulate.SameEndpoint:
			return "same endpoint"
		case simulate.RuleMatched:
			name := "?"
			if int(d.Policy) < len(policies) && d.Policy >= 0 {
				name = policies[d.Policy].String()
			}
			parts = append(parts, fmt.Sprintf("%s %s[%d]", name, t.Direction, d.Rule))
		case simulate.ResidentNode:
			parts = append(parts, "from its own node")
		}
	}
	if len(parts) == 0 {
		return "not isolated"
	}
	return strings.Join(parts, ", ")
}
