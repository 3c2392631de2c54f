package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Scenario is the decoded input: the cluster state, the external addresses and
// the probes to evaluate. Field names follow the JSON format documented in
// test/oracles/README.md.
type Scenario struct {
	Namespaces []Namespace       `json:"namespaces"`
	Pods       []Pod             `json:"pods"`
	Policies   []json.RawMessage `json:"policies"`
	Externals  []string          `json:"externals"`
	Probes     []string          `json:"probes"`
}

// Namespace is a namespace and its labels, used as given (the caller adds
// kubernetes.io/metadata.name if it wants it).
type Namespace struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// Pod is a running, non-hostNetwork pod with one IP and its container ports.
type Pod struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels"`
	IP        string            `json:"ip"`
	Ports     []Port            `json:"ports"`
}

// Port is a container port. An empty Protocol means TCP, as in the API.
type Port struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Port     int32  `json:"port"`
}

// Probe is a protocol ("TCP", "UDP" or "SCTP") and a destination port.
type Probe struct {
	Protocol string
	Port     int
}

// String renders p as "TCP/80".
func (p Probe) String() string { return p.Protocol + "/" + strconv.Itoa(p.Port) }

// Endpoint is a pod or an external address. Pod is nil for externals.
type Endpoint struct {
	// ID is "ns/name" for a pod and the canonical IP for an external.
	ID  string
	IP  netip.Addr
	Pod *Pod
}

// External reports whether e is an external address rather than a pod.
func (e *Endpoint) External() bool { return e.Pod == nil }

// Case is a validated scenario, ready for an oracle.
type Case struct {
	Scenario
	// Endpoints holds every pod and external, sorted by ID.
	Endpoints []Endpoint
	// ProbeList holds the parsed probes, in input order.
	ProbeList []Probe
	// NamespaceLabels maps a namespace name to its labels.
	NamespaceLabels map[string]map[string]string
}

// PortName returns the name of the container port of pod with the given
// number and protocol, or "" if the pod has no such port or the port is
// unnamed.
func PortName(pod *Pod, p Probe) string {
	for _, cp := range pod.Ports {
		if int(cp.Port) == p.Port && cp.Protocol == p.Protocol {
			return cp.Name
		}
	}
	return ""
}

// Read decodes and validates a scenario. Unknown fields are errors, so are
// trailing data and every violation of the contract described in the README;
// all problems found are joined into one error.
func Read(r io.Reader) (*Case, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	var s Scenario
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty scenario")
	}
	if err := DecodeStrict(data, &s); err != nil {
		return nil, fmt.Errorf("decoding scenario: %w", err)
	}
	return newCase(s)
}

// DecodeStrict unmarshals one JSON value from data into v, rejecting unknown
// fields and trailing data.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func newCase(s Scenario) (*Case, error) {
	c := &Case{Scenario: s, NamespaceLabels: map[string]map[string]string{}}
	var errs []error
	for i, ns := range s.Namespaces {
		switch _, dup := c.NamespaceLabels[ns.Name]; {
		case ns.Name == "":
			errs = append(errs, fmt.Errorf("namespaces[%d].name: must not be empty", i))
		case dup:
			errs = append(errs, fmt.Errorf("namespaces[%d].name: duplicate namespace %q", i, ns.Name))
		}
		c.NamespaceLabels[ns.Name] = ns.Labels
	}
	ips := map[netip.Addr]string{}
	errs = append(errs, c.addPods(ips)...)
	errs = append(errs, c.addExternals(ips)...)
	errs = append(errs, c.addProbes()...)
	errs = append(errs, validatePolicies(s.Policies)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortFunc(c.Endpoints, func(a, b Endpoint) int { return strings.Compare(a.ID, b.ID) })
	return c, nil
}

func (c *Case) addPods(ips map[netip.Addr]string) []error {
	var errs []error
	seen := map[string]bool{}
	for i := range c.Pods {
		pod := &c.Pods[i]
		path := fmt.Sprintf("pods[%d]", i)
		id := pod.Namespace + "/" + pod.Name
		if _, ok := c.NamespaceLabels[pod.Namespace]; !ok {
			errs = append(errs, fmt.Errorf("%s.namespace: unknown namespace %q", path, pod.Namespace))
		}
		if pod.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: must not be empty", path))
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("%s: duplicate pod %q", path, id))
		}
		seen[id] = true
		addr, err := parseIP(pod.IP)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.ip: %w", path, err))
		} else if other, dup := ips[addr]; dup {
			errs = append(errs, fmt.Errorf("%s.ip: %s is already used by %q", path, addr, other))
		}
		ips[addr] = id
		errs = append(errs, validatePorts(path, pod.Ports)...)
		c.Endpoints = append(c.Endpoints, Endpoint{ID: id, IP: addr, Pod: pod})
	}
	return errs
}

func validatePorts(path string, ports []Port) []error {
	var errs []error
	seen := map[Probe]bool{}
	for j := range ports {
		p := &ports[j]
		if p.Protocol == "" {
			p.Protocol = "TCP"
		}
		if !validProtocol(p.Protocol) {
			errs = append(errs, fmt.Errorf("%s.ports[%d].protocol: %q is not TCP, UDP or SCTP", path, j, p.Protocol))
		}
		if p.Port < 1 || p.Port > 65535 {
			errs = append(errs, fmt.Errorf("%s.ports[%d].port: %d is not from 1 to 65535", path, j, p.Port))
		}
		key := Probe{Protocol: p.Protocol, Port: int(p.Port)}
		if seen[key] {
			errs = append(errs, fmt.Errorf("%s.ports[%d]: duplicate port %s", path, j, key))
		}
		seen[key] = true
	}
	return errs
}

func (c *Case) addExternals(ips map[netip.Addr]string) []error {
	var errs []error
	for i, s := range c.Externals {
		path := fmt.Sprintf("externals[%d]", i)
		addr, err := parseIP(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		if other, dup := ips[addr]; dup {
			errs = append(errs, fmt.Errorf("%s: %s is already used by %q", path, addr, other))
			continue
		}
		ips[addr] = s
		c.Endpoints = append(c.Endpoints, Endpoint{ID: s, IP: addr})
	}
	return errs
}

func (c *Case) addProbes() []error {
	var errs []error
	if len(c.Probes) == 0 {
		errs = append(errs, errors.New("probes: need at least one probe"))
	}
	seen := map[Probe]bool{}
	for i, s := range c.Probes {
		p, err := ParseProbe(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("probes[%d]: %w", i, err))
			continue
		}
		if seen[p] {
			errs = append(errs, fmt.Errorf("probes[%d]: duplicate probe %q", i, s))
		}
		seen[p] = true
		c.ProbeList = append(c.ProbeList, p)
	}
	return errs
}

// ParseProbe reads a probe in its canonical form "TCP/80".
func ParseProbe(s string) (Probe, error) {
	proto, port, _ := strings.Cut(s, "/")
	n, err := strconv.Atoi(port)
	p := Probe{Protocol: proto, Port: n}
	if err != nil || !validProtocol(proto) || n < 1 || n > 65535 || p.String() != s {
		return Probe{}, fmt.Errorf("probe %q is not of the form PROTOCOL/PORT (TCP, UDP or SCTP; 1-65535), e.g. \"TCP/80\"", s)
	}
	return p, nil
}

// parseIP accepts only canonical addresses, so that IDs, informer indexes and
// string lookups in the oracles all agree. IPv4-mapped IPv6 addresses are
// refused: net.IP treats them as IPv4 and the oracles would disagree on them
// for reasons unrelated to policy semantics.
func parseIP(s string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Errorf("invalid IP address %q", s)
	case addr.Zone() != "":
		return netip.Addr{}, fmt.Errorf("IP address %q must not have a zone", s)
	case addr.Is4In6():
		return netip.Addr{}, fmt.Errorf("IPv4-mapped IPv6 address %q is not supported", s)
	case addr.String() != s:
		return netip.Addr{}, fmt.Errorf("IP address %q is not in canonical form (want %q)", s, addr.String())
	}
	return addr, nil
}

func validProtocol(p string) bool { return p == "TCP" || p == "UDP" || p == "SCTP" }
