package simulate

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol"
)

// Options holds the implementation-defined choices of the simulator. The zero
// value is the behaviour of the upstream conformance tests.
type Options struct {
	// IPBlockIgnoresPods makes ipBlock peers match only addresses outside
	// the cluster's pods, as Cilium-like dataplanes do. The API leaves this
	// undefined; by default (false) ipBlock matches pod IPs too, as the
	// upstream conformance tests expect.
	IPBlockIgnoresPods bool
	// Externals are addresses outside the cluster's pods to include as
	// endpoints, after the snapshot's pods and templates.
	Externals []netip.Addr
}

// EndpointID names an endpoint of an Engine: an index into Endpoints().
type EndpointID int32

// Engine is a compiled snapshot: every policy parsed and validated, every
// endpoint sorted into a class of endpoints that no policy can tell apart.
// It is immutable and safe for concurrent use.
type Engine struct {
	opts      Options
	endpoints []netpol.Endpoint
	byID      map[string]EndpointID
	byIP      map[netip.Addr]EndpointID
	policies  []policy
	peers     []peer
	classOf   []int32 // endpoint -> class
	epNode    []int32 // endpoint -> node it runs on or stands for (0: none)
	nodeish   []bool  // endpoint is an address of its node
	classes   []class
	// podRanges are the address ranges pods get (nodes' podCIDRs), used to
	// decide whether an ipBlock holds a template's future pods.
	podRanges []netip.Prefix
	services  serviceIndex
}

// class is a set of endpoints with the same verdicts towards every other
// endpoint.
type class struct {
	subject bool    // selectable by podSelector: a pod or template, not hostNetwork
	ingress []int32 // policies that select it for ingress, in policy order
	egress  []int32
	inRules []ruleRef // the rules of ingress, flattened
	egRules []ruleRef
	peers   bitset // peers (indexes into Engine.peers) that match it
	ports   []netpol.Port
}

// Compile defaults, validates and compiles the snapshot's policies and sorts
// its endpoints into classes. Every invalid policy is reported, joined into
// one error; nothing invalid is accepted.
func Compile(s *netpol.Snapshot, o Options) (*Engine, error) {
	e := &Engine{opts: o, byID: map[string]EndpointID{}, byIP: map[netip.Addr]EndpointID{}}
	if err := e.compilePolicies(s.Policies); err != nil {
		return nil, err
	}
	if err := e.addEndpoints(s, o.Externals); err != nil {
		return nil, err
	}
	e.podRanges = podRanges(s)
	e.classify(s)
	e.services = indexServices(s)
	return e, nil
}

func (e *Engine) compilePolicies(in []networkingv1.NetworkPolicy) error {
	nps := make([]*networkingv1.NetworkPolicy, len(in))
	for i := range in {
		np := in[i].DeepCopy()
		Default(np)
		nps[i] = np
	}
	slices.SortStableFunc(nps, func(a, b *networkingv1.NetworkPolicy) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var errs []error
	for i, np := range nps {
		if i > 0 && nps[i-1].Namespace == np.Namespace && nps[i-1].Name == np.Name {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s/%s: defined twice", np.Namespace, np.Name))
			continue
		}
		if err := Validate(np); err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := compilePolicy(np, &e.peers)
		if err != nil {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err))
			continue
		}
		e.policies = append(e.policies, p)
	}
	return errors.Join(errs...)
}

func (e *Engine) addEndpoints(s *netpol.Snapshot, externals []netip.Addr) error {
	e.endpoints = s.Endpoints()
	for i, ep := range e.endpoints {
		e.byID[ep.ID()] = EndpointID(i)
		if len(ep.IPs) > 0 && !ep.HostNetwork {
			for _, ip := range ep.IPs {
				e.byIP[ip] = EndpointID(i)
			}
		}
	}
	var errs []error
	seen := map[netip.Addr]bool{}
	for _, ip := range externals {
		ip = ip.Unmap()
		if !ip.IsValid() {
			errs = append(errs, errors.New("external address is not valid"))
			continue
		}
		if id, ok := e.byIP[ip]; ok {
			errs = append(errs, fmt.Errorf("external %q is the address of pod %s", ip, e.endpoints[id].ID()))
			continue
		}
		if seen[ip] {
			continue
		}
		seen[ip] = true
		id := EndpointID(len(e.endpoints))
		e.endpoints = append(e.endpoints, netpol.External(ip))
		e.byID[ip.String()] = id
		e.byIP[ip] = id
	}
	return errors.Join(errs...)
}

// Endpoints returns the engine's endpoints, indexed by EndpointID: the
// snapshot's pods and templates sorted by ID, then the externals in the
// order given. The slice must not be changed.
func (e *Engine) Endpoints() []netpol.Endpoint { return e.endpoints }

// EndpointIDs returns the ids of every endpoint, in order: what a matrix of
// the whole snapshot is computed over.
func (e *Engine) EndpointIDs() []EndpointID {
	ids := make([]EndpointID, len(e.endpoints))
	for i := range ids {
		ids[i] = EndpointID(i)
	}
	return ids
}

// Endpoint returns the endpoint with the given id.
func (e *Engine) Endpoint(id EndpointID) netpol.Endpoint { return e.endpoints[id] }

// Lookup finds an endpoint by its ID ("ns/name", "ns/deployment/web") or by
// an address of one of its pods or externals.
func (e *Engine) Lookup(idOrIP string) (EndpointID, bool) {
	if id, ok := e.byID[idOrIP]; ok {
		return id, true
	}
	if ip, err := netip.ParseAddr(idOrIP); err == nil {
		id, ok := e.byIP[ip.Unmap()]
		return id, ok
	}
	return 0, false
}

// PolicyRef names a compiled policy for explanations.
type PolicyRef struct {
	Namespace, Name string
}

// String returns "namespace/name".
func (p PolicyRef) String() string { return p.Namespace + "/" + p.Name }

// Policies returns the compiled policies in evaluation order (sorted by
// namespace and name); Decision.Policy indexes it.
func (e *Engine) Policies() []PolicyRef {
	out := make([]PolicyRef, len(e.policies))
	for i := range e.policies {
		out[i] = PolicyRef{e.policies[i].namespace, e.policies[i].name}
	}
	return out
}

// Classes returns how many classes the engine's endpoints fall into.
func (e *Engine) Classes() int { return len(e.classes) }
