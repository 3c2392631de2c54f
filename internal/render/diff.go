package render

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/netpol/netpol/diff"
)

// Diff is a connectivity difference to render, with the names of its sides
// as the user gave them.
type Diff struct {
	Report     *diff.Report
	Base, Head string
}

// section is a titled list of changes, grouped into rows.
type section struct {
	title string
	rows  []row
	// observed: the rows carry observed traffic worth a column.
	observed bool
	color    string
}

// row is the changes of one peer pair: its ports and the distinct reasons.
type row struct {
	from, to *diff.Peer
	ports    []string
	reasons  []string
	changes  int
	ev       diff.Evidence
}

// sections splits the report into the sections shown to people. Without
// observed traffic: lost, gained. With it, four disjoint ones: breakages,
// the other lost, the gained that observed traffic uses (it was dropped),
// and the openings.
func (d Diff) sections() []section {
	r := d.Report
	if !r.Observed {
		return []section{{title: "Lost", rows: rows(r.Lost), color: red}, {title: "Gained", rows: rows(r.Gained), color: green}}
	}
	var lost, used []diff.Change
	for _, c := range r.Lost {
		if c.Observed == nil || c.Observed.Forwarded == 0 {
			lost = append(lost, c)
		}
	}
	for _, c := range r.Gained {
		if c.Observed != nil {
			used = append(used, c)
		}
	}
	return []section{
		{title: "Breakages: observed traffic that the head denies", rows: rows(r.Breakages), observed: true, color: red},
		{title: "Lost, with no observed traffic", rows: rows(lost), color: red},
		{title: "Gained, used by observed traffic", rows: rows(used), observed: true, color: green},
		{title: "Openings: gained, with no observed traffic", rows: rows(r.Openings), color: green},
	}
}

// rows groups changes (sorted by peers, then probe) by peer pair.
func rows(cs []diff.Change) []row {
	var out []row
	for _, c := range cs {
		if n := len(out); n == 0 || out[n-1].from != c.From || out[n-1].to != c.To {
			out = append(out, row{from: c.From, to: c.To})
		}
		r := &out[len(out)-1]
		r.changes++
		r.ports = append(r.ports, portText(c))
		for _, s := range c.Reasons {
			if !slices.Contains(r.reasons, s) {
				r.reasons = append(r.reasons, s)
			}
		}
		if ev := c.Observed; ev != nil {
			r.ev.Forwarded += ev.Forwarded
			r.ev.Dropped += ev.Dropped
			if ev.LastSeen.After(r.ev.LastSeen) {
				r.ev.LastSeen = ev.LastSeen
			}
		}
	}
	return out
}

// portText is the probe of a change, with the state that is partial.
func portText(c diff.Change) string {
	switch {
	case c.Before == diff.Partial:
		return c.Probe.String() + " (was partial)"
	case c.After == diff.Partial:
		return c.Probe.String() + " (now partial)"
	}
	return c.Probe.String()
}

// evidenceText summarises observed traffic: "12 connections, last
// 2024-05-01 12:00 UTC".
func evidenceText(ev diff.Evidence) string {
	var parts []string
	if ev.Forwarded > 0 {
		parts = append(parts, count(int(ev.Forwarded), "connection", "connections"))
	}
	if ev.Dropped > 0 {
		parts = append(parts, count(int(ev.Dropped), "dropped", "dropped"))
	}
	s := strings.Join(parts, ", ")
	if !ev.LastSeen.IsZero() {
		s += ", last " + ev.LastSeen.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Verdict says in one line what the change does: "no connectivity change",
// or "1 observed connection would break; 2 connections gained; 1 lost".
func (d Diff) Verdict() string {
	_, text := d.verdict()
	return text
}

// verdict says in one line what the change does, and which icon goes with
// it: "" (no change), "changed" or "breaks".
func (d Diff) verdict() (level, text string) {
	r := d.Report
	if !r.Changed() {
		return "", "no connectivity change"
	}
	var parts []string
	if n := len(r.Breakages); n > 0 {
		parts = append(parts, count(n, "observed connection would break", "observed connections would break"))
	}
	if n := len(r.Gained); n > 0 {
		gained := count(n, "connection gained", "connections gained")
		if r.Observed {
			gained += fmt.Sprintf(" (%d not used by observed traffic)", len(r.Openings))
		}
		parts = append(parts, gained)
	}
	if n := len(r.Lost); n > 0 {
		parts = append(parts, count(n, "connection lost", "connections lost"))
	}
	for _, inv := range []struct {
		i    diff.Inventory
		verb string
	}{{r.Appeared, "added"}, {r.Disappeared, "removed"}} {
		for _, c := range []struct {
			n         int
			one, many string
		}{{len(inv.i.Namespaces), "namespace", "namespaces"}, {len(inv.i.Workloads), "workload", "workloads"}, {len(inv.i.Pods), "pod", "pods"}} {
			if c.n > 0 {
				parts = append(parts, count(c.n, c.one, c.many)+" "+inv.verb)
			}
		}
	}
	if len(r.Breakages) > 0 {
		return "breaks", strings.Join(parts, "; ")
	}
	return "changed", strings.Join(parts, "; ")
}

// DiffText renders a difference for a terminal: the verdict, then each
// section's rows ("  x/a -> y/web  TCP/8080, TCP/9090") with their reasons
// indented below, then what appeared and disappeared.
func DiffText(w io.Writer, d Diff, o Options) error {
	bw := bufio.NewWriter(w)
	level, text := d.verdict()
	color := map[string]string{"": green, "changed": bold, "breaks": red + bold}[level]
	fmt.Fprintf(bw, "netpol diff %s -> %s: %s\n", d.Base, d.Head, o.paint(color, text))
	fmt.Fprintf(bw, "compared on %s\n", probesText(d.Report))
	if d.Report.Unevaluated > 0 {
		fmt.Fprintf(bw, "%s of observed traffic not evaluated (reserved identities, workloads on one side only, ICMP)\n",
			count(d.Report.Unevaluated, "edge port", "edge ports"))
	}
	for _, s := range d.sections() {
		if len(s.rows) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s\n", o.paint(bold, s.title))
		for _, r := range s.rows {
			line := fmt.Sprintf("  %s -> %s  %s", r.from, r.to, strings.Join(r.ports, ", "))
			if s.observed {
				line += "  (" + evidenceText(r.ev) + ")"
			}
			bw.WriteString(o.paint(s.color, line) + "\n")
			for _, reason := range r.reasons {
				bw.WriteString("      " + reason + "\n")
			}
		}
	}
	for _, inv := range []struct {
		title string
		i     diff.Inventory
	}{{"Appeared", d.Report.Appeared}, {"Disappeared", d.Report.Disappeared}} {
		if inv.i.Empty() {
			continue
		}
		fmt.Fprintf(bw, "\n%s\n", o.paint(bold, inv.title))
		for _, line := range inventoryLines(inv.i, func(s string) string { return s }) {
			bw.WriteString("  " + line + "\n")
		}
	}
	return bw.Flush()
}

// probesText lists the probes compared.
func probesText(r *diff.Report) string {
	var ps []string
	for _, p := range r.Probes {
		ps = append(ps, p.String())
	}
	if len(ps) == 0 {
		return "no ports (no container or policy ports on either side)"
	}
	return count(len(ps), "port", "ports") + ": " + strings.Join(ps, ", ")
}

// inventoryLines lists namespaces, workloads and pods one a line, each name
// passed through code (for markdown).
func inventoryLines(i diff.Inventory, code func(string) string) []string {
	var out []string
	for _, n := range i.Namespaces {
		out = append(out, "namespace "+code(n))
	}
	for _, w := range i.Workloads {
		out = append(out, string(w.Kind)+" "+code(w.String()))
	}
	for _, p := range i.Pods {
		out = append(out, "pod "+code(p))
	}
	return out
}

// changeJSON is one change in the JSON contract.
type changeJSON struct {
	From     string        `json:"from"`
	FromKind string        `json:"fromKind"`
	To       string        `json:"to"`
	ToKind   string        `json:"toKind"`
	Protocol string        `json:"protocol"`
	Port     uint16        `json:"port"`
	Before   string        `json:"before"`
	After    string        `json:"after"`
	Reasons  []string      `json:"reasons"`
	Observed *evidenceJSON `json:"observed,omitempty"`
}

type evidenceJSON struct {
	Forwarded int64      `json:"forwarded"`
	Dropped   int64      `json:"dropped"`
	LastSeen  *time.Time `json:"lastSeen,omitempty"`
}

type inventoryJSON struct {
	Namespaces []string       `json:"namespaces"`
	Workloads  []workloadJSON `json:"workloads"`
	Pods       []string       `json:"pods"`
}

type workloadJSON struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// DiffJSON renders a difference as the stable JSON contract:
//
//	{"gained": [{"from": "x/a", "fromKind": "Pod", "to": "y/web", "toKind": "Deployment",
//	             "protocol": "TCP", "port": 8080, "before": "denied", "after": "allowed",
//	             "reasons": ["ingress allowed by y/allow-web ingress[0]"],
//	             "observed": {"forwarded": 12, "dropped": 0, "lastSeen": "..."}}],
//	 "lost": [...], "breakages": [...], "openings": [...],
//	 "appeared": {"namespaces": [], "workloads": [{"name": "z/api", "kind": "Deployment"}], "pods": []},
//	 "disappeared": {...}, "probes": ["TCP/80"], "observedTraffic": true, "unevaluated": 0}
//
// Lists are sorted (changes by from, to, protocol and port) and never null;
// "observed" on a change is present only when traffic was observed for it.
// One change a line.
func DiffJSON(w io.Writer, d Diff) error {
	bw := bufio.NewWriter(w)
	r := d.Report
	bw.WriteString("{\n")
	for _, l := range []struct {
		name string
		cs   []diff.Change
	}{{"gained", r.Gained}, {"lost", r.Lost}, {"breakages", r.Breakages}, {"openings", r.Openings}} {
		if err := writeChanges(bw, l.name, l.cs); err != nil {
			return err
		}
	}
	probes := []string{}
	for _, p := range r.Probes {
		probes = append(probes, p.String())
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"appeared", inventoryOf(r.Appeared)}, {"disappeared", inventoryOf(r.Disappeared)}, {"probes", probes}, {"observedTraffic", r.Observed}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "  %q: %s,\n", f.name, b)
	}
	fmt.Fprintf(bw, "  \"unevaluated\": %d\n}\n", r.Unevaluated)
	return bw.Flush()
}

func writeChanges(w *bufio.Writer, name string, cs []diff.Change) error {
	if len(cs) == 0 {
		fmt.Fprintf(w, "  %q: [],\n", name)
		return nil
	}
	fmt.Fprintf(w, "  %q: [\n", name)
	for i, c := range cs {
		b, err := json.Marshal(changeOf(c))
		if err != nil {
			return err
		}
		w.WriteString("    ")
		w.Write(b)
		if i < len(cs)-1 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
	}
	w.WriteString("  ],\n")
	return nil
}

func changeOf(c diff.Change) changeJSON {
	out := changeJSON{
		From: c.From.String(), FromKind: string(c.From.Kind), To: c.To.String(), ToKind: string(c.To.Kind),
		Protocol: c.Probe.Protocol.String(), Port: c.Probe.Port, Before: c.Before.String(), After: c.After.String(),
		Reasons: c.Reasons,
	}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	if ev := c.Observed; ev != nil {
		out.Observed = &evidenceJSON{Forwarded: ev.Forwarded, Dropped: ev.Dropped}
		if !ev.LastSeen.IsZero() {
			t := ev.LastSeen.UTC()
			out.Observed.LastSeen = &t
		}
	}
	return out
}

func inventoryOf(i diff.Inventory) inventoryJSON {
	out := inventoryJSON{Namespaces: i.Namespaces, Workloads: []workloadJSON{}, Pods: i.Pods}
	for _, w := range i.Workloads {
		out.Workloads = append(out.Workloads, workloadJSON{Name: w.String(), Kind: string(w.Kind)})
	}
	if out.Namespaces == nil {
		out.Namespaces = []string{}
	}
	if out.Pods == nil {
		out.Pods = []string{}
	}
	return out
}
