package graph

import (
	"net/netip"
	"strings"
	"time"

	"github.com/netpol/netpol"
)

// Resolver maps the endpoints of flows to nodes. It reads a snapshot once
// (pods, their owners, workloads, nodes, services) and learns, from the
// flows it resolves, which workload an address or a Cilium security
// identity belongs to, so that an endpoint seen elsewhere without its pod
// name resolves too. The zero Resolver is not usable; call NewResolver. A
// Resolver is not safe for concurrent use.
type Resolver struct {
	pods      map[podKey]podInfo
	podByIP   map[netip.Addr]podKey
	workloads map[workloadKey]workloadInfo
	nodeByIP  map[netip.Addr]string
	services  map[netip.Addr]*service

	cache      map[cacheKey]Node
	svcCache   map[svcKey][]Target
	learnedIP  map[netip.Addr]Node
	learnedID  map[uint32]Node // the zero Node marks an ambiguous identity
	labelCache map[uint32]Node // byLabels by identity; the zero Node: none
}

type podKey struct{ ns, name string }

// cacheKey is what a pod's resolution depends on: its name, whether the
// source gave labels, and the workload the source named.
type cacheKey struct {
	pod       podKey
	hasLabels bool
	wl        netpol.WorkloadRef
}

type workloadKey struct{ kind, ns, name string }

type ownerRef struct{ kind, name string }

type podInfo struct {
	labels map[string]string
	owner  ownerRef
	ports  []netpol.Port
	// finished is set when the pod has ended (netpol.PodFinished): a
	// running pod wins an address over a finished one.
	finished bool
}

type workloadInfo struct {
	owner  ownerRef
	labels map[string]string // pod template labels
	ports  []netpol.Port
}

// NewResolver indexes s; s may be nil (no snapshot: resolution relies on
// the flows alone). The resolver does not keep s.
func NewResolver(s *netpol.Snapshot) *Resolver {
	r := &Resolver{
		pods: map[podKey]podInfo{}, podByIP: map[netip.Addr]podKey{},
		workloads: map[workloadKey]workloadInfo{}, nodeByIP: map[netip.Addr]string{},
		services: map[netip.Addr]*service{}, cache: map[cacheKey]Node{}, svcCache: map[svcKey][]Target{},
		learnedIP: map[netip.Addr]Node{}, learnedID: map[uint32]Node{}, labelCache: map[uint32]Node{},
	}
	if s == nil {
		return r
	}
	r.indexWorkloads(s)
	r.indexPods(s)
	r.indexNodes(s)
	r.indexServices(s)
	return r
}

func (r *Resolver) indexWorkloads(s *netpol.Snapshot) {
	for i := range s.Workloads {
		w := &s.Workloads[i]
		var refs []ownerRef
		for _, o := range w.OwnerReferences {
			ref := ownerRef{o.Kind, o.Name}
			if o.Controller != nil && *o.Controller {
				refs = append([]ownerRef{ref}, refs...)
			} else {
				refs = append(refs, ref)
			}
		}
		info := workloadInfo{labels: w.Template.Labels, ports: netpol.ContainerPorts(&w.Template.Spec)}
		if len(refs) > 0 {
			info.owner = refs[0]
		}
		r.workloads[workloadKey{w.Kind, w.Namespace, w.Name}] = info
	}
}

func (r *Resolver) indexPods(s *netpol.Snapshot) {
	for i := range s.Pods {
		p := &s.Pods[i]
		info := podInfo{labels: p.Labels, ports: netpol.ContainerPorts(&p.Spec)}
		for _, o := range p.OwnerReferences {
			if info.owner.name == "" || (o.Controller != nil && *o.Controller) {
				info.owner = ownerRef{o.Kind, o.Name}
			}
		}
		key := podKey{p.Namespace, p.Name}
		finished := netpol.PodFinished(p)
		info.finished = finished
		if prev, ok := r.pods[key]; ok {
			info.finished = prev.finished // of pods of one name, the first decides
		}
		r.pods[key] = info
		if ip, err := netip.ParseAddr(p.Status.HostIP); err == nil && p.Spec.NodeName != "" {
			if _, ok := r.nodeByIP[ip.Unmap()]; !ok {
				r.nodeByIP[ip.Unmap()] = p.Spec.NodeName
			}
		}
		if p.Spec.HostNetwork {
			continue // its address is its node's
		}
		for _, ip := range netpol.PodIPs(p) {
			if old, ok := r.podByIP[ip]; !ok || !finished && r.pods[old].finished {
				r.podByIP[ip] = key
			}
		}
	}
}

func (r *Resolver) indexNodes(s *netpol.Snapshot) {
	for i := range s.Nodes {
		for _, ip := range netpol.NodeIPs(&s.Nodes[i]) {
			r.nodeByIP[ip] = s.Nodes[i].Name
		}
	}
}

// hasWorkload reports whether the snapshot holds the workload.
func (r *Resolver) hasWorkload(kind Kind, ns, name string) bool {
	_, ok := r.workloads[workloadKey{string(kind), ns, name}]
	return ok
}

// climb follows owner references from ref up to the top-level workload:
// through the snapshot where it holds the owner, else by inference for a
// ReplicaSet (its Deployment) and a Job (its CronJob).
func (r *Resolver) climb(ns string, ref ownerRef, labels map[string]string, now time.Time) Node {
	for range 4 { // Pod <- ReplicaSet <- Deployment; Pod <- Job <- CronJob
		w, ok := r.workloads[workloadKey{ref.kind, ns, ref.name}]
		if !ok {
			switch Kind(ref.kind) {
			case KindReplicaSet:
				return r.replicaSetOwner(ns, ref.name, labels)
			case KindJob:
				return r.jobOwner(ns, ref.name, now)
			}
			return WorkloadNode(Kind(ref.kind), ns, ref.name)
		}
		if w.owner.name == "" {
			return WorkloadNode(Kind(ref.kind), ns, ref.name)
		}
		ref = w.owner
	}
	return WorkloadNode(Kind(ref.kind), ns, ref.name)
}

// Pod returns the node of pod ns/name: its top-level owner in the
// snapshot; else the workload the flow source named (wl); else the
// pod-name pattern of a controller, confirmed as pattern.go describes; else
// the bare pod. labels are the pod's labels as the source gave them (nil
// for none); now is the flow's time. Results are cached per pod (and whether labels and a workload came
// with it): a pod's labels are taken to be those of its first flow.
func (r *Resolver) Pod(ns, name string, labels map[string]string, wl netpol.WorkloadRef, now time.Time) Node {
	key := cacheKey{podKey{ns, name}, labels != nil, wl}
	if n, ok := r.cache[key]; ok {
		return n
	}
	n := r.pod(ns, name, labels, wl, now)
	if len(r.cache) < maxCache {
		wl = netpol.WorkloadRef{Namespace: strings.Clone(wl.Namespace), Kind: strings.Clone(wl.Kind), Name: strings.Clone(wl.Name)}
		r.cache[cacheKey{podKey{strings.Clone(ns), strings.Clone(name)}, labels != nil, wl}] = n
	}
	return n
}

// maxCache bounds the per-pod cache: past it, pods resolve uncached.
const maxCache = 1 << 18

func (r *Resolver) pod(ns, name string, labels map[string]string, wl netpol.WorkloadRef, now time.Time) Node {
	ns, name = strings.Clone(ns), strings.Clone(name)
	if p, ok := r.pods[podKey{ns, name}]; ok {
		if p.owner.name == "" {
			return WorkloadNode(KindPod, ns, name)
		}
		return r.climb(ns, p.owner, p.labels, now)
	}
	if wl.Kind != "" && wl.Name != "" {
		wns := ns
		if wl.Namespace != "" {
			wns = wl.Namespace
		}
		return r.climb(strings.Clone(wns), ownerRef{strings.Clone(wl.Kind), strings.Clone(wl.Name)}, labels, now)
	}
	if n, ok := r.fromPodName(ns, name, labels, now); ok {
		return n
	}
	return WorkloadNode(KindPod, ns, name)
}
