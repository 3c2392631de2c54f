package simulate

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netpol/netpol"
)

// Target is where a connection to a Service lands after DNAT: a backend
// endpoint and the probe as the backend sees it.
type Target struct {
	Endpoint EndpointID
	Probe    netpol.Probe
}

type serviceIndex struct {
	byIP map[netip.Addr]*serviceEntry
}

type serviceEntry struct {
	svc    *corev1.Service
	slices []*discoveryv1.EndpointSlice
}

func indexServices(s *netpol.Snapshot) serviceIndex {
	idx := serviceIndex{byIP: map[netip.Addr]*serviceEntry{}}
	byName := map[string]*serviceEntry{}
	for i := range s.Services {
		svc := &s.Services[i]
		ent := &serviceEntry{svc: svc}
		byName[svc.Namespace+"/"+svc.Name] = ent
		ips := svc.Spec.ClusterIPs
		if len(ips) == 0 && svc.Spec.ClusterIP != "" {
			ips = []string{svc.Spec.ClusterIP}
		}
		for _, raw := range ips {
			if ip, err := netip.ParseAddr(raw); err == nil {
				idx.byIP[ip.Unmap()] = ent
			}
		}
	}
	for i := range s.EndpointSlices {
		es := &s.EndpointSlices[i]
		if ent, ok := byName[es.Namespace+"/"+es.Labels[discoveryv1.LabelServiceName]]; ok {
			ent.slices = append(ent.slices, es)
		}
	}
	return idx
}

// Service returns the "namespace/name" of the Service whose ClusterIP is ip.
func (e *Engine) Service(ip netip.Addr) (string, bool) {
	ent, ok := e.services.byIP[ip.Unmap()]
	if !ok {
		return "", false
	}
	return ent.svc.Namespace + "/" + ent.svc.Name, true
}

// ServiceTargets resolves a connection to a Service ClusterIP into its
// backends, as the dataplane does before policy sees it: from the Service's
// EndpointSlices when the snapshot has any, else from its selector over the
// endpoints (templates included), with targetPort resolved by number or by
// container-port name on each backend. ok is false when ip is no ClusterIP
// or the Service has no port p; targets is empty when it has no backends.
func (e *Engine) ServiceTargets(ip netip.Addr, p netpol.Probe) (targets []Target, ok bool) {
	ent, found := e.services.byIP[ip.Unmap()]
	if !found {
		return nil, false
	}
	var sp *corev1.ServicePort
	for i := range ent.svc.Spec.Ports {
		q := &ent.svc.Spec.Ports[i]
		proto := netpol.ProtocolTCP
		if q.Protocol != "" {
			proto, _ = netpol.ParseProtocol(string(q.Protocol))
		}
		if proto == p.Protocol && int(q.Port) == int(p.Port) {
			sp = q
			break
		}
	}
	if sp == nil {
		return nil, false
	}
	if len(ent.slices) > 0 {
		return e.sliceTargets(ent, sp, p.Protocol), true
	}
	return e.selectorTargets(ent, sp, p.Protocol), true
}

func (e *Engine) sliceTargets(ent *serviceEntry, sp *corev1.ServicePort, proto netpol.Protocol) []Target {
	var out []Target
	for _, es := range ent.slices {
		var port int32 = -1
		for _, q := range es.Ports {
			name := ""
			if q.Name != nil {
				name = *q.Name
			}
			if name == sp.Name && q.Port != nil {
				port = *q.Port
			}
		}
		if port <= 0 || port > 65535 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				if id, ok := e.byIP[ip.Unmap()]; ok {
					out = append(out, Target{id, netpol.Probe{Protocol: proto, Port: uint16(port)}})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Target) int { return int(a.Endpoint) - int(b.Endpoint) })
	return slices.Compact(out)
}

func (e *Engine) selectorTargets(ent *serviceEntry, sp *corev1.ServicePort, proto netpol.Protocol) []Target {
	if len(ent.svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(ent.svc.Spec.Selector)
	var out []Target
	for i := range e.endpoints {
		ep := &e.endpoints[i]
		if !selectable(ep) || ep.Namespace != ent.svc.Namespace || !sel.Matches(labels.Set(ep.Labels)) {
			continue
		}
		port := resolveTargetPort(sp, ep, proto)
		if port == 0 {
			continue
		}
		out = append(out, Target{EndpointID(i), netpol.Probe{Protocol: proto, Port: port}})
	}
	return out
}

func resolveTargetPort(sp *corev1.ServicePort, ep *netpol.Endpoint, proto netpol.Protocol) uint16 {
	tp := sp.TargetPort
	switch {
	case tp.Type == intstr.String && tp.StrVal != "":
		for _, p := range ep.Ports {
			if p.Name == tp.StrVal && p.Protocol == proto {
				return p.Port
			}
		}
		return 0
	case tp.Type == intstr.Int && tp.IntVal > 0 && tp.IntVal < 65536:
		return uint16(tp.IntVal)
	case sp.Port > 0 && sp.Port < 65536:
		return uint16(sp.Port)
	}
	return 0
}
