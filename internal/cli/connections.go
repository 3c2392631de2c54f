package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/netpol/netpol"
)

// connection is one line of a connections file.
type connection struct {
	from, to string
	probe    netpol.Probe
	expect   string // "allowed", "denied" or ""
	source   string // "file:line"
}

// connectionsHelp documents the connections file; it is part of the help of
// simulate.
const connectionsHelp = `A connections file lists one connection per line:

  FROM TO PROBE [allowed|denied]

with # comments and blank lines ignored, or is a YAML or JSON list of
{from, to, probe, expect} objects (expect optional):

  - {from: frontend/web-0, to: shop/cart-0, probe: TCP/8080, expect: allowed}

FROM and TO name a pod ("ns/name"), a workload without pods
("ns/deployment/name") or an IP address; a name without a namespace is in
-n's namespace ("default" without -n). A pod's address stands for the pod,
another address is an external endpoint, and a Service ClusterIP as TO is
resolved to its backends (one verdict per backend, port translated). PROBE
is PROTOCOL/PORT ("TCP/80", "UDP/53"; a bare port is TCP). "-" reads the
file from standard input.`

// parseConnections reads a connections file named name (for messages). Every
// problem is reported, with its line.
func parseConnections(name string, data []byte) ([]connection, error) {
	if isYAMLList(data) {
		return parseYAMLConnections(name, data)
	}
	var out []connection
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		src := fmt.Sprintf("%s:%d", name, line)
		if len(f) < 3 || len(f) > 4 {
			errs = append(errs, fmt.Errorf("%s: want FROM TO PROBE [allowed|denied], got %d fields", src, len(f)))
			continue
		}
		expect := ""
		if len(f) == 4 {
			expect = f[3]
		}
		c, err := newConnection(src, f[0], f[1], f[2], expect)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return out, errors.Join(errs...)
}

func newConnection(src, from, to, probe, expect string) (connection, error) {
	p, err := netpol.ParseProbe(probe)
	if err != nil {
		return connection{}, fmt.Errorf("%s: %w", src, err)
	}
	switch expect {
	case "", "allowed", "denied":
	default:
		return connection{}, fmt.Errorf("%s: expectation %q is not allowed or denied", src, expect)
	}
	return connection{from: from, to: to, probe: p, expect: expect, source: src}, nil
}

// isYAMLList reports whether the first line that is not blank or a comment
// starts a YAML or JSON list.
func isYAMLList(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		return t == "-" || strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "[")
	}
	return false
}

// parseYAMLConnections reads a YAML or JSON list of {from, to, probe,
// expect} objects.
func parseYAMLConnections(name string, data []byte) ([]connection, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: want a list of {from, to, probe, expect}", name)
	}
	var out []connection
	var errs []error
	for _, item := range doc.Content[0].Content {
		c, err := yamlConnection(fmt.Sprintf("%s:%d", name, item.Line), item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

func yamlConnection(src string, item *yaml.Node) (connection, error) {
	if item.Kind != yaml.MappingNode {
		return connection{}, fmt.Errorf("%s: want an object {from, to, probe, expect}", src)
	}
	fields := map[string]string{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		switch k.Value {
		case "from", "to", "probe", "expect":
		default:
			return connection{}, fmt.Errorf("%s: unknown field %q (want from, to, probe, expect)", src, k.Value)
		}
		if v.Kind != yaml.ScalarNode {
			return connection{}, fmt.Errorf("%s: %s: want a string", src, k.Value)
		}
		fields[k.Value] = v.Value
	}
	for _, f := range []string{"from", "to", "probe"} {
		if fields[f] == "" {
			return connection{}, fmt.Errorf("%s: missing %s", src, f)
		}
	}
	return newConnection(src, fields["from"], fields["to"], fields["probe"], fields["expect"])
}
