package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/netpol/netpol/generate"
)

// reportMeta says what a report was made from.
type reportMeta struct {
	state   string
	cluster []string
}

// writeReport writes the coverage report of a generation: the guarantees,
// per namespace its learning window, policies and rules with their
// evidence, then the rules seen once, the idle workloads and namespaces,
// the notes and the faults.
func writeReport(w io.Writer, r *generate.Result, c *generate.Check, m reportMeta) {
	var b strings.Builder
	cluster := "the live cluster"
	if len(m.cluster) > 0 {
		cluster = strings.Join(m.cluster, ", ")
	}
	fmt.Fprintf(&b, "netpol generate: coverage report\nlearned state: %s\ncluster: %s\n\n", m.state, cluster)
	writeGuarantees(&b, r, c)
	var once []string
	var idle []string
	for _, ns := range r.Namespaces {
		once, idle = writeNamespace(&b, ns, once, idle)
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	section("rules seen once (low evidence)", once)
	section("idle workloads (no traffic but DNS: no policy of their own; the default deny applies)", idle)
	var idleNS []string
	for _, ns := range r.Namespaces {
		if ns.Idle {
			what := "no policies written; --lock-idle writes a default deny"
			if ns.Policed {
				what = "locked with a default deny only (--lock-idle)"
			}
			idleNS = append(idleNS, ns.Name+": "+what)
		}
	}
	section("idle namespaces (no traffic in the learning window)", idleNS)
	var notes []string
	for _, n := range r.Notes {
		notes = append(notes, noteText(n))
	}
	section("notes", notes)
	section("observed but denied (guarantee 1 FAILS)", faultLines(c.Denied))
	section("allowed but never observed (guarantee 2 FAILS)", faultLines(c.Unexpected))
	section("allowed but never observed, by the cluster's own policies only (kept)", faultLines(c.Existing))
	section("observed but not checked", faultLines(c.Unchecked))
	if c.Truncated > 0 {
		fmt.Fprintf(&b, "\n%d more faults left out of the lists above\n", c.Truncated)
	}
	io.WriteString(w, b.String())
}

func writeGuarantees(b *strings.Builder, r *generate.Result, c *generate.Check) {
	verdict := "hold"
	if !c.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(b, "guarantees %s, checked by the simulator with the cluster's own policies:\n", verdict)
	fmt.Fprintf(b, "  1. every observed forwarded connection is allowed: %d of %d\n", c.Observed-len(c.Denied), c.Observed)
	fmt.Fprintf(b, "  2. no two workloads are connected unless observed, except DNS: %d exceptions among %d pairs of workloads,\n", len(c.Unexpected), c.Pairs)
	fmt.Fprintf(b, "     on %d probes that stand for every port (%s)\n", len(c.Probes), probeList(c))
	if r.DNS.Found() {
		fmt.Fprintf(b, "DNS allowed to every pod: %s\n", describeDNS(r.DNS))
	} else {
		b.WriteString("DNS: none found; no allow-dns written\n")
	}
}

func probeList(c *generate.Check) string {
	var ps []string
	for _, p := range c.Probes {
		ps = append(ps, p.String())
	}
	return strings.Join(ps, " ")
}

// writeNamespace writes one namespace, and adds its rules seen once and
// its idle workloads to once and idle.
func writeNamespace(b *strings.Builder, ns generate.Namespace, once, idle []string) ([]string, []string) {
	window := "not observed while learning"
	if !ns.Window.IsZero() {
		window = fmt.Sprintf("learned from %s to %s (%s)", ns.Window.First.UTC().Format(time.RFC3339),
			ns.Window.Last.UTC().Format(time.RFC3339), ns.Window.Last.Sub(ns.Window.First).Round(time.Second))
	}
	fmt.Fprintf(b, "\nnamespace %s: %s\n", ns.Name, window)
	for _, wl := range ns.Workloads {
		switch {
		case wl.Policy == "" && wl.Idle:
			if !ns.Idle {
				idle = append(idle, wl.Node.String())
			}
			continue
		case wl.Policy == "":
			fmt.Fprintf(b, "  %s %s: no policy (see the notes)\n", wl.Node.Kind, wl.Node)
			continue
		}
		exact := ""
		if !wl.Exact {
			exact = ", NOT EXACT"
		}
		fmt.Fprintf(b, "  policy %s/%s for %s %s (podSelector %s%s)\n", ns.Name, wl.Policy, wl.Node.Kind, wl.Node, formatSelector(wl.Selector), exact)
		for _, rule := range wl.Rules {
			fmt.Fprintf(b, "    %s[%d]:\n", rule.Direction, rule.Index)
			for _, ev := range rule.Evidence {
				fmt.Fprintf(b, "      %s\n", ev)
				if ev.Count == 1 {
					once = append(once, fmt.Sprintf("%s/%s %s[%d]: %s", ns.Name, wl.Policy, rule.Direction, rule.Index, ev))
				}
			}
		}
	}
	return once, idle
}

func faultLines(fs []generate.Fault) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}
