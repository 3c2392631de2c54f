package netpoltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// Scenario is the input of the oracle commands under test/oracles: running
// pods with one address each, namespaces with their labels as given,
// policies already defaulted, externals and probes. It cannot hold nodes,
// hostNetwork pods, templates or pods without an address.
type Scenario struct {
	Namespaces []ScenarioNamespace          `json:"namespaces"`
	Pods       []ScenarioPod                `json:"pods"`
	Policies   []networkingv1.NetworkPolicy `json:"policies"`
	Externals  []string                     `json:"externals"`
	Probes     []string                     `json:"probes"`
}

// ScenarioNamespace is a namespace and all its labels, including
// kubernetes.io/metadata.name.
type ScenarioNamespace struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// ScenarioPod is a running pod: its address and the container ports that
// named ports resolve to (containers and native sidecars).
type ScenarioPod struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels"`
	IP        string            `json:"ip"`
	Ports     []ScenarioPort    `json:"ports"`
}

// ScenarioPort is a container port; Name is empty for an unnamed one.
type ScenarioPort struct {
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Port     int32  `json:"port"`
}

// NewScenario converts a snapshot for the oracles. Policies are defaulted
// with simulate.Default, as the API server stores them; pods are the
// snapshot's endpoints (finished pods left out) with their primary address.
// It fails on what the format cannot hold: nodes, templates, hostNetwork
// pods and pods without an address.
func NewScenario(s *netpol.Snapshot, externals []netip.Addr, probes []netpol.Probe) (*Scenario, error) {
	var errs []error
	if len(s.Nodes) > 0 {
		errs = append(errs, errors.New("scenario cannot hold nodes"))
	}
	sc := &Scenario{Externals: []string{}, Probes: []string{}, Pods: []ScenarioPod{}, Policies: []networkingv1.NetworkPolicy{}}
	nsl := s.NamespaceLabels()
	names := make([]string, 0, len(nsl))
	for n := range nsl {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		sc.Namespaces = append(sc.Namespaces, ScenarioNamespace{Name: n, Labels: nsl[n]})
	}
	for _, ep := range s.Endpoints() {
		switch {
		case ep.Kind != netpol.EndpointPod:
			errs = append(errs, fmt.Errorf("scenario cannot hold %s %s", ep.Kind, ep.ID()))
			continue
		case ep.HostNetwork:
			errs = append(errs, fmt.Errorf("scenario cannot hold hostNetwork pod %s", ep.ID()))
			continue
		case len(ep.IPs) == 0:
			errs = append(errs, fmt.Errorf("scenario cannot hold pod %s without an address", ep.ID()))
			continue
		}
		p := ScenarioPod{Namespace: ep.Namespace, Name: ep.Name, Labels: ep.Labels, IP: ep.IP().String(), Ports: []ScenarioPort{}}
		for _, cp := range ep.Ports {
			p.Ports = append(p.Ports, ScenarioPort{Name: cp.Name, Protocol: cp.Protocol.String(), Port: int32(cp.Port)})
		}
		sc.Pods = append(sc.Pods, p)
	}
	for i := range s.Policies {
		np := s.Policies[i].DeepCopy()
		simulate.Default(np)
		sc.Policies = append(sc.Policies, *np)
	}
	for _, a := range externals {
		sc.Externals = append(sc.Externals, a.String())
	}
	for _, p := range probes {
		sc.Probes = append(sc.Probes, p.String())
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sc, nil
}

// Snapshot returns the scenario as a snapshot: its namespaces, one running
// pod per scenario pod with a single container holding every port, and its
// policies.
func (sc *Scenario) Snapshot() *netpol.Snapshot {
	s := &netpol.Snapshot{}
	for _, n := range sc.Namespaces {
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels}})
	}
	for _, p := range sc.Pods {
		pod := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: p.IP, PodIPs: []corev1.PodIP{{IP: p.IP}}},
		}
		c := corev1.Container{Name: "main"}
		for _, cp := range p.Ports {
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: cp.Name, Protocol: corev1.Protocol(cp.Protocol), ContainerPort: cp.Port})
		}
		pod.Spec.Containers = []corev1.Container{c}
		s.Pods = append(s.Pods, pod)
	}
	for i := range sc.Policies {
		s.Policies = append(s.Policies, *sc.Policies[i].DeepCopy())
	}
	return s
}

// ExternalAddrs parses the externals.
func (sc *Scenario) ExternalAddrs() ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range sc.Externals {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("external %q: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// ProbeList parses the probes.
func (sc *Scenario) ProbeList() ([]netpol.Probe, error) {
	var out []netpol.Probe
	for _, s := range sc.Probes {
		p, err := netpol.ParseProbe(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Write encodes the scenario as indented JSON.
func (sc *Scenario) Write(w io.Writer) error {
	b, err := json.MarshalIndent(sc, "", " ")
	if err != nil {
		return fmt.Errorf("encoding scenario: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadScenario decodes a scenario strictly: unknown fields and trailing data
// are errors.
func ReadScenario(r io.Reader) (*Scenario, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("decoding scenario: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decoding scenario: unexpected data after the JSON value")
	}
	return &sc, nil
}
