package cli

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/simulate"
)

// resolver turns the endpoint names of a command line or a connections file
// into the engine's endpoints.
type resolver struct {
	eng       *simulate.Engine
	namespace string // for names without one; "" is "default"
}

// workloadKinds are the first part of a template endpoint's ID without
// its namespace ("deployment/web").
var workloadKinds = []string{"cronjob", "daemonset", "deployment", "job", "replicaset", "replicationcontroller", "statefulset"}

// complete returns name with the default namespace added when it is neither
// an address nor namespaced: "web-0" becomes "default/web-0", and
// "deployment/web" "default/deployment/web".
func (r resolver) complete(name string) string {
	if _, err := netip.ParseAddr(name); err == nil {
		return name
	}
	if first, _, found := strings.Cut(name, "/"); found && (strings.Count(name, "/") > 1 || !slices.Contains(workloadKinds, first)) {
		return name
	}
	ns := r.namespace
	if ns == "" {
		ns = "default"
	}
	return ns + "/" + name
}

// side is one resolved end of a connection: an endpoint, or a Service
// ClusterIP (only as a destination).
type side struct {
	id      simulate.EndpointID
	service string // "namespace/name" when the name is a Service ClusterIP
	ip      netip.Addr
}

// resolve finds the endpoint or Service that name stands for: a pod
// ("ns/name"), a template ("ns/deployment/name"), a pod address, a Service
// ClusterIP, or an external address (the caller compiled it in).
func (r resolver) resolve(name string) (side, error) {
	if id, ok := r.eng.Lookup(name); ok {
		return side{id: id}, nil
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		if svc, ok := r.eng.Service(ip); ok {
			return side{service: svc, ip: ip}, nil
		}
		return side{}, fmt.Errorf("address %q is not known", name)
	}
	return side{}, r.unknown(name)
}

// unknown explains an endpoint name that resolves to nothing, listing the
// endpoints of its namespace.
func (r resolver) unknown(name string) error {
	ns, _, _ := strings.Cut(name, "/")
	var in []string
	for _, ep := range r.eng.Endpoints() {
		if ep.Namespace == ns && ep.Kind != netpol.EndpointExternal {
			in = append(in, ep.ID())
		}
	}
	switch {
	case len(in) == 0:
		return fmt.Errorf("unknown endpoint %q: namespace %q has no pods or workloads", name, ns)
	case len(in) > 6:
		in = append(in[:6], "...")
	}
	return fmt.Errorf("unknown endpoint %q (endpoints of %s: %s)", name, ns, strings.Join(in, ", "))
}

// source resolves a connection's source, which cannot be a Service.
func (r resolver) source(name string) (simulate.EndpointID, error) {
	s, err := r.resolve(name)
	if err != nil {
		return 0, err
	}
	if s.service != "" {
		return 0, fmt.Errorf("%s is the ClusterIP of Service %s, which cannot open connections; name a pod", name, s.service)
	}
	return s.id, nil
}

// serviceTargets returns the backends of a Service for a probe, or why it
// has none.
func (r resolver) serviceTargets(s side, p netpol.Probe) ([]simulate.Target, string) {
	targets, ok := r.eng.ServiceTargets(s.ip, p)
	switch {
	case !ok:
		return nil, "has no port " + p.String()
	case len(targets) == 0:
		return nil, "has no ready backends"
	}
	return targets, ""
}

// explainService explains a connection to a Service ClusterIP on each of its
// backends.
func (r resolver) explainService(from simulate.EndpointID, to side, p netpol.Probe) render.ServiceExplanation {
	targets, problem := r.serviceTargets(to, p)
	se := render.ServiceExplanation{
		From: r.eng.Endpoint(from).ID(), IP: to.ip.String(), Service: to.service, Probe: p, Problem: problem,
	}
	for _, t := range targets {
		se.Backends = append(se.Backends, r.eng.Explain(from, t.Endpoint, t.Probe))
	}
	return se
}
