package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// ExplanationText writes an explanation for a terminal: the verdict, then
// for each direction the policies that select its subject and each of their
// rules, with the peers and ports that matched or did not.
func ExplanationText(w io.Writer, x simulate.Explanation, o Options) error {
	var b strings.Builder
	writeExplanation(&b, x, o, "")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeExplanation(b *strings.Builder, x simulate.Explanation, o Options, indent string) {
	if x.Result.Verdict == simulate.VerdictUnknown {
		b.WriteString(indent + "unknown endpoint\n")
		return
	}
	fmt.Fprintf(b, "%s%s -> %s %s: %s\n", indent, x.From.ID(), x.To.ID(), x.Probe, paintVerdict(o, x.Result.Verdict))
	for _, t := range []simulate.DirectionTrace{x.Egress, x.Ingress} {
		fmt.Fprintf(b, "%s  %s of %s: %s\n", indent, t.Direction, t.Subject, paintVerdict(o, t.Decision.Verdict))
		fmt.Fprintf(b, "%s    %s\n", indent, summary(t))
		for _, pt := range t.Policies {
			if len(pt.Rules) == 0 {
				fmt.Fprintf(b, "%s    %s: no %s rules\n", indent, pt.Name, t.Direction)
			}
			for _, rt := range pt.Rules {
				fmt.Fprintf(b, "%s    %s %s[%d]: %s\n", indent, pt.Name, t.Direction, rt.Index, yesNo(rt.Allowed, "allows", "does not allow"))
				if rt.AllPeers {
					fmt.Fprintf(b, "%s      peers: all\n", indent)
				}
				for i, c := range rt.Peers {
					fmt.Fprintf(b, "%s      %s peer %d: %s\n", indent, mark(o, c.Matched), i, c.Text)
				}
				if rt.AllPorts {
					fmt.Fprintf(b, "%s      ports: all\n", indent)
				}
				for _, c := range rt.Ports {
					fmt.Fprintf(b, "%s      %s port %s\n", indent, mark(o, c.Matched), c.Text)
				}
			}
		}
	}
	if !x.IPBlockMatchesPods {
		fmt.Fprintf(b, "%s  (ipBlock peers do not match pod addresses: --ipblock-matches-pods=false)\n", indent)
	}
}

func paintVerdict(o Options, v simulate.Verdict) string {
	switch v {
	case simulate.Allowed:
		return o.paint(green, v.String())
	case simulate.Denied:
		return o.paint(red, v.String())
	}
	return v.String()
}

// mark is a checkbox: "[x]" for a peer or port that matched, "[ ]" for one
// that did not.
func mark(o Options, ok bool) string {
	if ok {
		return o.paint(green, "[x]")
	}
	return "[ ]"
}

// summary is the one-line headline of a direction. When no rule allowed
// the connection it names the isolating policies only: the rules below say
// why each did not match.
func summary(t simulate.DirectionTrace) string {
	if t.Decision.Reason != simulate.NoRuleMatched {
		return t.Summary
	}
	var names []string
	for _, pt := range t.Policies {
		names = append(names, pt.Name)
	}
	return fmt.Sprintf("isolated for %s by %s; no rule allows it:", t.Direction, strings.Join(names, ", "))
}

func yesNo(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// ExplanationJSON writes an explanation as the stable JSON object
//
//	{"from": "x/a", "to": "y/b", "probe": "TCP/80", "allowed": false,
//	 "ipBlockMatchesPods": true, "egress": {...}, "ingress": {...}}
//
// where each direction has its verdict, reason, subject, summary and the
// policies that select the subject with their rules.
func ExplanationJSON(w io.Writer, x simulate.Explanation) error {
	return writeJSON(w, explanationDoc(x))
}

// explanationJSON is the JSON form of an explanation.
type explanationJSON struct {
	From               string        `json:"from"`
	To                 string        `json:"to"`
	Probe              string        `json:"probe"`
	Allowed            bool          `json:"allowed"`
	IPBlockMatchesPods bool          `json:"ipBlockMatchesPods"`
	Egress             directionJSON `json:"egress"`
	Ingress            directionJSON `json:"ingress"`
}

// directionJSON adds the direction's verdict and reason to its trace.
type directionJSON struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	simulate.DirectionTrace
}

func explanationDoc(x simulate.Explanation) explanationJSON {
	dir := func(t simulate.DirectionTrace) directionJSON {
		return directionJSON{Verdict: t.Decision.Verdict.String(), Reason: t.Decision.Reason.String(), DirectionTrace: t}
	}
	return explanationJSON{
		From:               x.From.ID(),
		To:                 x.To.ID(),
		Probe:              x.Probe.String(),
		Allowed:            x.Result.Verdict == simulate.Allowed,
		IPBlockMatchesPods: x.IPBlockMatchesPods,
		Egress:             dir(x.Egress),
		Ingress:            dir(x.Ingress),
	}
}

// ServiceExplanation is a connection to a Service ClusterIP, explained on
// each of the Service's backends with the port translated as the dataplane
// does (the policies see the connection after DNAT).
type ServiceExplanation struct {
	From    string
	IP      string // the ClusterIP
	Service string // "namespace/name"
	Probe   netpol.Probe
	// Backends holds one explanation per backend; empty when Problem says
	// why the Service has none for this probe.
	Backends []simulate.Explanation
	Problem  string
}

// Allowed reports whether every backend allows the connection (and there is
// at least one): only then does the connection always succeed.
func (s ServiceExplanation) Allowed() bool {
	for _, x := range s.Backends {
		if x.Result.Verdict != simulate.Allowed {
			return false
		}
	}
	return len(s.Backends) > 0
}

// ServiceExplanationText writes a Service connection and each backend's
// explanation.
func ServiceExplanationText(w io.Writer, s ServiceExplanation, o Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s %s: %s is Service %s", s.From, s.IP, s.Probe, s.IP, s.Service)
	if s.Problem != "" {
		fmt.Fprintf(&b, ", which %s: %s\n", s.Problem, paintVerdict(o, simulate.Denied))
	} else {
		fmt.Fprintf(&b, "; explaining its %d backend(s) after DNAT, as the policies see them\n", len(s.Backends))
	}
	for _, x := range s.Backends {
		b.WriteByte('\n')
		writeExplanation(&b, x, o, "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// serviceExplanationJSON is the JSON form of a Service connection.
type serviceExplanationJSON struct {
	From     string            `json:"from"`
	To       string            `json:"to"`
	Probe    string            `json:"probe"`
	Allowed  bool              `json:"allowed"`
	Service  string            `json:"service"`
	Problem  string            `json:"problem,omitempty"`
	Backends []explanationJSON `json:"backends"`
}

// ServiceExplanationJSON writes a Service connection as the stable JSON
// object {"from", "to" (the ClusterIP), "probe", "allowed" (true when every
// backend allows it), "service", "problem" (when it has no backend),
// "backends": [explanation objects, as ExplanationJSON writes]}.
func ServiceExplanationJSON(w io.Writer, s ServiceExplanation) error {
	doc := serviceExplanationJSON{
		From: s.From, To: s.IP, Probe: s.Probe.String(), Allowed: s.Allowed(),
		Service: s.Service, Problem: s.Problem, Backends: []explanationJSON{},
	}
	for _, x := range s.Backends {
		doc.Backends = append(doc.Backends, explanationDoc(x))
	}
	return writeJSON(w, doc)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
