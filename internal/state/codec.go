package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
)

// SchemaError is the error for a state file of another schema than
// Schema: a newer netpol's, or something else.
type SchemaError struct {
	// Schema is the file's schema, "" when it has none.
	Schema string
}

// Newer reports whether the file comes from a newer netpol.
func (e *SchemaError) Newer() bool {
	v, ok := strings.CutPrefix(e.Schema, schemaPrefix)
	n, err := strconv.Atoi(v)
	return ok && err == nil && n > 1
}

// Error says what the schema is and what this netpol reads.
func (e *SchemaError) Error() string {
	switch {
	case e.Schema == "":
		return fmt.Sprintf("not a netpol state file: no %q field (want %q)", "schema", Schema)
	case e.Newer():
		return fmt.Sprintf("state schema %q is newer than this netpol reads (%q): upgrade netpol", e.Schema, Schema)
	}
	return fmt.Sprintf("unknown state schema %q (this netpol reads %q)", e.Schema, Schema)
}

// Marshal encodes g as a state file: deterministic, indented, ending in a
// newline.
func Marshal(g *graph.Graph) ([]byte, error) {
	schema := Schema
	f := fileV1{Schema: &schema, Windows: map[string]windowV1{}, Edges: []edgeV1{}}
	for ns, w := range g.Windows() {
		f.Windows[ns] = windowV1{First: w.First, Last: w.Last}
	}
	for _, e := range g.Edges() {
		f.Edges = append(f.Edges, edgeV1{From: e.From.Key(), To: e.To.Key(),
			Forwarded: encodePorts(e.Forwarded), Dropped: encodePorts(e.Dropped)})
	}
	for _, a := range g.NamedAddrs() {
		if f.Names == nil {
			f.Names = map[string][]string{}
		}
		f.Names[a.String()] = g.Names(a)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding state: %w", err)
	}
	return b.Bytes(), nil
}

func encodePorts(ps []graph.PortStats) []portV1 {
	var out []portV1
	for _, p := range ps {
		q := portV1{Protocol: p.Protocol.String(), Port: p.Port, Count: p.Count, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen}
		if s := p.Sample; !s.IsZero() {
			q.Sample = &sampleV1{Time: s.Time, Source: encodeEndpoint(s.Source), Destination: encodeEndpoint(s.Destination),
				Verdict: s.Verdict.String(), Node: s.Node}
		}
		out = append(out, q)
	}
	return out
}

func encodeEndpoint(e graph.SampleEndpoint) endpointV1 {
	out := endpointV1{Port: e.Port, Namespace: e.Namespace, Pod: e.Pod}
	if e.IP.IsValid() {
		out.IP = e.IP.String()
	}
	return out
}

// Unmarshal decodes a state file. A file of another schema is a
// *SchemaError; any other problem (invalid JSON, an unknown field, a bad
// node, protocol or time) is reported with its place in the file.
func Unmarshal(data []byte) (*graph.Graph, error) {
	var f fileV1
	if err := decodeFile(data, &f); err != nil {
		// A file of another schema is refused for that reason, whatever
		// else is wrong with it.
		if serr := checkSchema(data); serr != nil {
			return nil, serr
		}
		return nil, err
	}
	if err := schemaError(f.Schema); err != nil {
		return nil, err
	}
	return f.graph()
}

// decodeFile decodes data, a single JSON object, into f.
func decodeFile(data []byte, f *fileV1) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return fmt.Errorf("decoding state: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("decoding state: data after the state object")
	}
	return nil
}

// checkSchema reads the schema field alone, as fileV1 does, so that a file
// of another schema is refused for that reason, whatever its other fields.
func checkSchema(data []byte) error {
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("decoding state: %w", err)
	}
	return schemaError(head.Schema)
}

// schemaError returns a *SchemaError unless schema is Schema; nil means no
// schema field (or a null one).
func schemaError(schema *string) error {
	if schema == nil {
		return &SchemaError{}
	}
	if *schema != Schema {
		return &SchemaError{Schema: *schema}
	}
	return nil
}

func (f *fileV1) graph() (*graph.Graph, error) {
	g := graph.New()
	var errs []error
	for ns, w := range f.Windows {
		if ns == "" || w.First.IsZero() || w.Last.Before(w.First) {
			errs = append(errs, fmt.Errorf("windows[%q]: want a namespace and first <= last", ns))
			continue
		}
		g.Observe(ns, graph.Window{First: w.First, Last: w.Last})
	}
	for i, e := range f.Edges {
		ge, err := e.decode()
		if err != nil {
			errs = append(errs, fmt.Errorf("edges[%d]: %w", i, err))
			continue
		}
		g.Add(ge)
	}
	for addr, names := range f.Names {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("names[%q]: not an IP address", addr))
			continue
		}
		for _, n := range names {
			g.AddName(a, n)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid state: %w", err)
	}
	return g, nil
}

func (e *edgeV1) decode() (graph.Edge, error) {
	from, err := graph.ParseNode(e.From)
	if err != nil {
		return graph.Edge{}, fmt.Errorf("from: %w", err)
	}
	to, err := graph.ParseNode(e.To)
	if err != nil {
		return graph.Edge{}, fmt.Errorf("to: %w", err)
	}
	out := graph.Edge{From: from, To: to}
	if out.Forwarded, err = decodePorts("forwarded", e.Forwarded); err != nil {
		return graph.Edge{}, err
	}
	if out.Dropped, err = decodePorts("dropped", e.Dropped); err != nil {
		return graph.Edge{}, err
	}
	return out, nil
}

func decodePorts(field string, ps []portV1) ([]graph.PortStats, error) {
	var out []graph.PortStats
	for i, p := range ps {
		proto, ok := protocols[p.Protocol]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s[%d].protocol: unknown protocol %q (want TCP, UDP, SCTP or ICMP)", field, i, p.Protocol)
		case p.Count < 1:
			return nil, fmt.Errorf("%s[%d].count: %d, want 1 or more", field, i, p.Count)
		case p.FirstSeen.IsZero() || p.LastSeen.Before(p.FirstSeen):
			return nil, fmt.Errorf("%s[%d]: want firstSeen <= lastSeen", field, i)
		}
		q := graph.PortStats{Protocol: proto, Port: p.Port, Count: p.Count, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen}
		if p.Sample != nil {
			s, err := p.Sample.decode()
			if err != nil {
				return nil, fmt.Errorf("%s[%d].sample: %w", field, i, err)
			}
			q.Sample = s
		}
		out = append(out, q)
	}
	return out, nil
}

var protocols = map[string]netpol.Protocol{
	"TCP": netpol.ProtocolTCP, "UDP": netpol.ProtocolUDP, "SCTP": netpol.ProtocolSCTP, "ICMP": netpol.ProtocolICMP,
}

var verdicts = map[string]netpol.FlowVerdict{
	"unknown": netpol.FlowVerdictUnknown, "forwarded": netpol.Forwarded, "dropped": netpol.Dropped,
	"audit": netpol.Audit, "redirected": netpol.Redirected,
}

func (s *sampleV1) decode() (graph.Sample, error) {
	v, ok := verdicts[s.Verdict]
	if !ok {
		return graph.Sample{}, fmt.Errorf("verdict: unknown verdict %q", s.Verdict)
	}
	src, err := s.Source.decode()
	if err != nil {
		return graph.Sample{}, fmt.Errorf("source: %w", err)
	}
	dst, err := s.Destination.decode()
	if err != nil {
		return graph.Sample{}, fmt.Errorf("destination: %w", err)
	}
	out := graph.Sample{Time: s.Time, Source: src, Destination: dst, Verdict: v, Node: s.Node}
	if out.IsZero() || s.Time.IsZero() {
		return graph.Sample{}, errors.New("time: a sample needs a time")
	}
	return out, nil
}

func (e endpointV1) decode() (graph.SampleEndpoint, error) {
	out := graph.SampleEndpoint{Port: e.Port, Namespace: e.Namespace, Pod: e.Pod}
	if e.IP != "" {
		ip, err := netip.ParseAddr(e.IP)
		if err != nil {
			return graph.SampleEndpoint{}, fmt.Errorf("ip: %w", err)
		}
		out.IP = ip
	}
	return out, nil
}
