package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/netpol/netpol/test/oracles/scenario"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kube-network-policies/pkg/api"
	"sigs.k8s.io/kube-network-policies/pkg/network"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
	"sigs.k8s.io/kube-network-policies/pkg/podinfo"
)

// engine evaluates packets with knp's PolicyEngine, wired as in
// cmd/kube-network-policies/standard/main.go with a fake clientset in place
// of the API server and without NRI.
type engine struct {
	cl     *cluster
	engine *networkpolicy.PolicyEngine
	ctx    context.Context
}

func newEngine(cl *cluster) (*engine, error) {
	client := fake.NewClientset(cl.objects()...)
	factory := informers.NewSharedInformerFactory(client, 0)
	nsInformer := factory.Core().V1().Namespaces()
	npInformer := factory.Networking().V1().NetworkPolicies()
	podInformer := factory.Core().V1().Pods()
	err := podInformer.Informer().SetTransform(func(obj any) (any, error) {
		if accessor, err := meta.Accessor(obj); err == nil {
			accessor.SetManagedFields(nil)
		}
		return obj, nil
	})
	if err != nil {
		return nil, fmt.Errorf("setting pod transform: %w", err)
	}
	resolver, err := podinfo.NewInformerResolver(podInformer.Informer())
	if err != nil {
		return nil, fmt.Errorf("creating informer resolver: %w", err)
	}
	provider := podinfo.NewInformerProvider(podInformer, nsInformer, nil, []podinfo.IPResolver{resolver})
	std := networkpolicy.NewStandardNetworkPolicy(nodeName, nsInformer, podInformer, npInformer)

	// The informers live as long as the process: the CLI evaluates and exits.
	ctx := context.Background()
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	if !std.Ready() {
		return nil, errors.New("StandardNetworkPolicy is not ready after sync")
	}
	if err := checkSynced(cl, nsInformer.Lister().List, podInformer.Lister().List, npInformer.Lister().List); err != nil {
		return nil, err
	}
	return &engine{cl: cl, engine: networkpolicy.NewPolicyEngine(provider, []api.PolicyEvaluator{std}), ctx: ctx}, nil
}

// checkSynced makes sure the informer caches hold every object we created.
func checkSynced[A, B, C any](cl *cluster, ns func(labels.Selector) ([]A, error), pods func(labels.Selector) ([]B, error), nps func(labels.Selector) ([]C, error)) error {
	nsList, err1 := ns(labels.Everything())
	podList, err2 := pods(labels.Everything())
	npList, err3 := nps(labels.Everything())
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("listing informer caches: %w", err)
	}
	wantPods := len(cl.c.Pods)
	if len(nsList) != len(cl.namespaces) || len(podList) != wantPods || len(npList) != len(cl.policies) {
		return fmt.Errorf("informer caches hold %d namespaces, %d pods, %d policies; want %d, %d, %d",
			len(nsList), len(podList), len(npList), len(cl.namespaces), wantPods, len(cl.policies))
	}
	return nil
}

// Allowed implements scenario.Evaluator.
func (e *engine) Allowed(src, dst, probe int) (bool, error) {
	p := e.cl.c.ProbeList[probe]
	pkt := &network.Packet{
		Family:  family(e.cl.c.Endpoints[src]),
		SrcIP:   e.cl.ips[src],
		DstIP:   e.cl.ips[dst],
		Proto:   v1.Protocol(p.Protocol),
		SrcPort: srcPort,
		DstPort: p.Port,
	}
	return e.engine.EvaluatePacket(e.ctx, pkt)
}

func family(ep scenario.Endpoint) v1.IPFamily {
	if ep.IP.Is4() {
		return v1.IPv4Protocol
	}
	return v1.IPv6Protocol
}
