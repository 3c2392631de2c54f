package render

import "io"

// Verdict is one listed connection with its simulated verdict.
type Verdict struct {
	// From, To and Probe are the connection as listed, endpoint names
	// completed with the default namespace.
	From, To, Probe string
	// Service is the "namespace/name" of the Service when To is its
	// ClusterIP; Backend and BackendProbe then name the backend this
	// verdict is for and the probe after port translation. Backend is empty
	// when the Service has no backend for the probe.
	Service, Backend, BackendProbe string
	Allowed                        bool
	// Reason is the deciding rule or isolation, as Reason returns it.
	Reason string
	// Expect is "allowed", "denied", or "" when the listing gives none.
	Expect string
	// Source is where the connection was listed: "file:line".
	Source string
}

// Met reports whether the verdict meets the listed expectation (always,
// when there is none).
func (v Verdict) Met() bool {
	return v.Expect == "" || (v.Expect == "allowed") == v.Allowed
}

// Unmet counts the verdicts that do not meet their expectation.
func Unmet(vs []Verdict) int {
	n := 0
	for _, v := range vs {
		if !v.Met() {
			n++
		}
	}
	return n
}

func (v Verdict) verdict() string {
	if v.Allowed {
		return "allowed"
	}
	return "denied"
}

// SimulateTable writes the verdicts as a table with the columns FROM, TO,
// PROBE, VERDICT and REASON, and EXPECT ("ok" or "FAIL: want allowed") when
// any connection has an expectation. A connection to a Service shows its
// backend as "10.96.0.10 (svc ns/name) -> ns/pod" and the translated port.
func SimulateTable(w io.Writer, vs []Verdict, o Options) error {
	expect := false
	for _, v := range vs {
		expect = expect || v.Expect != ""
	}
	head := []cell{{text: "FROM"}, {text: "TO"}, {text: "PROBE"}, {text: "VERDICT"}}
	if expect {
		head = append(head, cell{text: "EXPECT"})
	}
	rows := [][]cell{append(head, cell{text: "REASON"})}
	for _, v := range vs {
		to, probe := v.To, v.Probe
		if v.Service != "" {
			to += " (svc " + v.Service + ") -> " + v.Backend
			if v.Backend == "" {
				to += "(no backend)"
			}
			if v.BackendProbe != "" && v.BackendProbe != v.Probe {
				probe += " -> " + v.BackendProbe
			}
		}
		color := red
		if v.Allowed {
			color = green
		}
		row := []cell{{text: v.From}, {text: to}, {text: probe}, {text: v.verdict(), color: color}}
		if expect {
			switch {
			case v.Expect == "":
				row = append(row, cell{})
			case v.Met():
				row = append(row, cell{text: "ok", color: green})
			default:
				row = append(row, cell{text: "FAIL: want " + v.Expect, color: bold + red})
			}
		}
		rows = append(rows, append(row, cell{text: v.Reason}))
	}
	return table(w, o, rows)
}

// verdictJSON is the JSON form of a Verdict.
type verdictJSON struct {
	From         string `json:"from"`
	To           string `json:"to"`
	Probe        string `json:"probe"`
	Service      string `json:"service,omitempty"`
	Backend      string `json:"backend,omitempty"`
	BackendProbe string `json:"backendProbe,omitempty"`
	Allowed      bool   `json:"allowed"`
	Reason       string `json:"reason"`
	Expect       string `json:"expect,omitempty"`
	Met          bool   `json:"met"`
	Source       string `json:"source"`
}

// SimulateJSON writes the verdicts as the stable JSON object
//
//	{"results": [{"from": "x/a", "to": "y/b", "probe": "TCP/80", "allowed": true,
//	  "reason": "...", "expect": "allowed", "met": true, "source": "conns.txt:3"}],
//	 "unmet": 0}
//
// in the order listed; a Service destination adds "service", "backend" and
// "backendProbe" to each of its backends' results.
func SimulateJSON(w io.Writer, vs []Verdict) error {
	doc := struct {
		Results []verdictJSON `json:"results"`
		Unmet   int           `json:"unmet"`
	}{Results: []verdictJSON{}, Unmet: Unmet(vs)}
	for _, v := range vs {
		doc.Results = append(doc.Results, verdictJSON{
			From: v.From, To: v.To, Probe: v.Probe, Service: v.Service, Backend: v.Backend,
			BackendProbe: v.BackendProbe, Allowed: v.Allowed, Reason: v.Reason, Expect: v.Expect,
			Met: v.Met(), Source: v.Source,
		})
	}
	return writeJSON(w, doc)
}
