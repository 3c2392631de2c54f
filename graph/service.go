package graph

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/netpol/netpol"
)

// Target is where a connection to a Service lands: the workload of a
// backend, and the port as the backend sees it.
type Target struct {
	Node Node
	Port uint16
}

type service struct {
	ns       string
	selector map[string]string
	ports    []servicePort
	// backends are the pods of the Service's EndpointSlices, by name where
	// the slice names them, else by address; empty without slices.
	backends []podKey
	// slicePorts are the EndpointSlice ports: name -> port.
	slicePorts map[string]uint16
}

type servicePort struct {
	name       string
	proto      netpol.Protocol
	port       uint16
	targetName string // a named targetPort
	targetPort uint16 // a numbered targetPort, or 0
}

type svcKey struct {
	ip    netip.Addr
	proto netpol.Protocol
	port  uint16
}

func (r *Resolver) indexServices(s *netpol.Snapshot) {
	byName := map[podKey]*service{}
	for i := range s.Services {
		v := &s.Services[i]
		svc := &service{ns: v.Namespace, selector: v.Spec.Selector, slicePorts: map[string]uint16{}}
		for _, p := range v.Spec.Ports {
			proto := netpol.ProtocolTCP
			if p.Protocol != "" {
				proto, _ = netpol.ParseProtocol(string(p.Protocol))
			}
			sp := servicePort{name: p.Name, proto: proto, port: uint16(p.Port), targetName: p.TargetPort.StrVal}
			if p.TargetPort.IntVal > 0 && p.TargetPort.IntVal < 65536 {
				sp.targetPort = uint16(p.TargetPort.IntVal)
			}
			svc.ports = append(svc.ports, sp)
		}
		byName[podKey{v.Namespace, v.Name}] = svc
		ips := v.Spec.ClusterIPs
		if len(ips) == 0 {
			ips = []string{v.Spec.ClusterIP}
		}
		for _, raw := range ips {
			if ip, err := netip.ParseAddr(raw); err == nil {
				r.services[ip.Unmap()] = svc
			}
		}
	}
	for i := range s.EndpointSlices {
		es := &s.EndpointSlices[i]
		svc := byName[podKey{es.Namespace, es.Labels["kubernetes.io/service-name"]}]
		if svc == nil {
			continue
		}
		for _, p := range es.Ports {
			if p.Port != nil && *p.Port > 0 && *p.Port < 65536 {
				name := ""
				if p.Name != nil {
					name = *p.Name
				}
				svc.slicePorts[name] = uint16(*p.Port)
			}
		}
		for _, ep := range es.Endpoints {
			if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" && ep.TargetRef.Name != "" {
				ns := ep.TargetRef.Namespace
				if ns == "" {
					ns = es.Namespace
				}
				svc.backends = append(svc.backends, podKey{ns, ep.TargetRef.Name})
				continue
			}
			for _, a := range ep.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil {
					if k, ok := r.podByIP[ip.Unmap()]; ok {
						svc.backends = append(svc.backends, k)
					}
				}
			}
		}
	}
}

// Service resolves a connection to a Service ClusterIP into the workloads
// of its backends and the port each one listens on: the backends of the
// Service's EndpointSlices, else the snapshot's pods and workload templates
// that its selector matches. A Service whose backends belong to several
// workloads resolves to each of them (a policy must let the client reach
// any). ok is false when ip is no ClusterIP of the snapshot; targets is
// empty when the Service has no known backend.
func (r *Resolver) Service(ip netip.Addr, proto netpol.Protocol, port uint16, now time.Time) (targets []Target, ok bool) {
	svc, ok := r.services[ip.Unmap()]
	if !ok {
		return nil, false
	}
	key := svcKey{ip.Unmap(), proto, port}
	if t, ok := r.svcCache[key]; ok {
		return t, true
	}
	var sp *servicePort
	for i := range svc.ports {
		if svc.ports[i].proto == proto && svc.ports[i].port == port {
			sp = &svc.ports[i]
		}
	}
	for _, b := range svc.backends {
		info := r.pods[b]
		targets = append(targets, Target{r.Pod(b.ns, b.name, info.labels, netpol.WorkloadRef{}, now), svc.targetPort(sp, port, info.ports)})
	}
	if len(svc.backends) == 0 {
		targets = r.selectorTargets(svc, sp, port, now)
	}
	slices.SortFunc(targets, func(a, b Target) int { return cmp.Or(a.Node.Compare(b.Node), cmp.Compare(a.Port, b.Port)) })
	targets = slices.Compact(targets)
	if len(r.svcCache) < maxCache {
		r.svcCache[key] = targets
	}
	return targets, true
}

// selectorTargets finds the backends of a Service without EndpointSlices:
// the snapshot's pods, and the pod templates of its top-level workloads,
// whose labels its selector matches.
func (r *Resolver) selectorTargets(svc *service, sp *servicePort, port uint16, now time.Time) []Target {
	if len(svc.selector) == 0 {
		return nil
	}
	var out []Target
	r.matching(svc.ns, svc.selector, now, func(n Node, ports []netpol.Port) {
		out = append(out, Target{n, svc.targetPort(sp, port, ports)})
	})
	return out
}

// matching calls f with the node and the container ports of each pod of
// namespace ns whose labels selector matches, then of each top-level
// workload there whose pod template's labels it matches.
func (r *Resolver) matching(ns string, selector map[string]string, now time.Time, f func(n Node, ports []netpol.Port)) {
	for k, p := range r.pods {
		if k.ns == ns && matches(selector, p.labels) {
			f(r.Pod(k.ns, k.name, p.labels, netpol.WorkloadRef{}, now), p.ports)
		}
	}
	for k, w := range r.workloads {
		if k.ns == ns && w.owner.name == "" && matches(selector, w.labels) {
			f(WorkloadNode(Kind(k.kind), k.ns, k.name), w.ports)
		}
	}
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// targetPort returns the port a backend with container ports listens on
// for the Service port sp (nil when the Service has no such port: the port
// is kept as it is).
func (svc *service) targetPort(sp *servicePort, port uint16, ports []netpol.Port) uint16 {
	if sp == nil {
		return port
	}
	if p, ok := svc.slicePorts[sp.name]; ok {
		return p
	}
	if sp.targetName != "" {
		for _, p := range ports {
			if p.Name == sp.targetName && p.Protocol == sp.proto {
				return p.Port
			}
		}
		return port
	}
	if sp.targetPort != 0 {
		return sp.targetPort
	}
	return sp.port
}
