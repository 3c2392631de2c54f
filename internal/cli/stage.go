package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/hubble"
	"github.com/netpol/netpol/internal/kube"
	"github.com/netpol/netpol/internal/state"
)

// staged applies the plan namespace by namespace; see newApplyCmd.
func (o *applyOptions) staged(ctx context.Context, e *env, c *kube.Client, p *kube.Plan, b *kube.Backup, path string) error {
	var g *guard
	if o.hubble != "" {
		var err error
		if g, err = o.newGuard(ctx, c); err != nil {
			return fmt.Errorf("nothing was changed: %w", err)
		}
	}
	var namespaces []string
	for _, s := range p.Changes("") {
		if !slices.Contains(namespaces, s.Namespace) {
			namespaces = append(namespaces, s.Namespace)
		}
	}
	for i, ns := range namespaces {
		start := time.Now()
		steps := p.Changes(ns)
		if err := c.Execute(ctx, steps, func(s kube.Step) { printStep(e, s) }); err != nil {
			return o.rollBack(ctx, e, c, b, ns, path, err)
		}
		fmt.Fprintf(e.stdout, "namespace %s: applied %d changes\n", ns, len(steps))
		switch {
		case g != nil:
			fmt.Fprintf(e.stdout, "namespace %s: watching dropped flows for %s\n", ns, o.wait)
			bad, err := g.watch(ctx, ns, start, o.wait)
			if err != nil {
				return o.rollBack(ctx, e, c, b, ns, path, fmt.Errorf("following Hubble: %w", err))
			}
			if len(bad) > 0 {
				err := fmt.Errorf("dropped, though the learned state saw them forwarded:\n  %s", strings.Join(bad, "\n  "))
				return o.rollBack(ctx, e, c, b, ns, path, err)
			}
		case i < len(namespaces)-1 && o.wait > 0:
			fmt.Fprintf(e.stdout, "namespace %s: waiting %s\n", ns, o.wait)
			select {
			case <-time.After(o.wait):
			case <-ctx.Done():
				return fmt.Errorf("stopped while waiting after namespace %s: %w; undo with: %s rollback --backup %s", ns, ctx.Err(), e.name, path)
			}
		}
	}
	fmt.Fprintf(e.stdout, "applied %d changes in %d namespaces\n", len(p.Changes("")), len(namespaces))
	return nil
}

// rollBack restores namespace ns from the backup after cause, and ends the
// staged apply with ExitFindings.
func (o *applyOptions) rollBack(ctx context.Context, e *env, c *kube.Client, b *kube.Backup, ns, path string, cause error) error {
	done, err := c.Restore(context.WithoutCancel(ctx), b, ns)
	for _, d := range done {
		fmt.Fprintf(e.stdout, "namespace %s: rollback: %s\n", ns, d)
	}
	if err != nil {
		return fmt.Errorf("namespace %s: %w\nrolling it back failed: %w", ns, cause, err)
	}
	return &exitError{code: ExitFindings, err: fmt.Errorf("namespace %s: %w\nnamespace %s was rolled back; the namespaces before it keep the new policies (undo with: %s rollback --backup %s)",
		ns, cause, ns, e.name, path)}
}

// guard tells regressions among dropped flows: connections that the
// learned state had seen forwarded.
type guard struct {
	addr     string
	tls      *hubble.TLSOptions
	resolver *graph.Resolver
	// learned counts the forwarded connections of each learned edge port.
	learned map[edgePort]int64
}

type edgePort struct {
	from, to graph.Node
	proto    netpol.Protocol
	port     uint16
}

// newGuard loads the learned state and reads the live cluster to resolve
// flow endpoints to workloads.
func (o *applyOptions) newGuard(ctx context.Context, c *kube.Client) (*guard, error) {
	learned, err := state.Load(o.statePath)
	if err != nil {
		return nil, err
	}
	objs, err := c.Read(ctx, kube.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the cluster to resolve flows: %w", err)
	}
	snap, _, err := decodeLive(objs, c.Host(), "")
	if err != nil {
		return nil, err
	}
	g := &guard{addr: o.hubble, tls: o.tls.options(), resolver: graph.NewResolver(snap), learned: map[edgePort]int64{}}
	for _, edge := range learned.Edges() {
		for _, p := range edge.Forwarded {
			g.learned[edgePort{edge.From, edge.To, p.Protocol, p.Port}] += p.Count
		}
	}
	return g, nil
}

// errRegression stops following Hubble at the first regression.
var errRegression = errors.New("regression")

// watch follows the dropped flows of namespace ns from since for d, and
// returns the regressions found, one line each ("Deployment:shop/web ->
// Deployment:shop/api TCP/8080: 1 dropped, 3 forwarded while learning").
func (g *guard) watch(ctx context.Context, ns string, since time.Time, d time.Duration) ([]string, error) {
	src := hubble.NewRelaySource(g.addr, hubble.RelayOptions{
		Namespaces: []string{ns}, Verdicts: []netpol.FlowVerdict{netpol.Dropped}, TLS: g.tls,
		Since: since, Duration: d, Backoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxRetries: 5,
	})
	b := graph.NewBuilder(g.resolver, nil, graph.Options{})
	var bad []string
	err := src.Run(ctx, func(f *netpol.Flow) error {
		if f.Verdict != netpol.Dropped || (!f.Time.IsZero() && f.Time.Before(since)) {
			return nil
		}
		b.Add(f)
		if bad = g.regressions(b.Graph()); len(bad) > 0 {
			return errRegression
		}
		return nil
	})
	if errors.Is(err, errRegression) {
		err = nil
	}
	return bad, err
}

// regressions returns the dropped edge ports of dropped that were learned
// forwarded.
func (g *guard) regressions(dropped *graph.Graph) []string {
	var out []string
	for _, e := range dropped.Edges() {
		for _, p := range e.Dropped {
			if n := g.learned[edgePort{e.From, e.To, p.Protocol, p.Port}]; n > 0 {
				out = append(out, fmt.Sprintf("%s -> %s %s/%d: %d dropped, %d forwarded while learning",
					e.From.Key(), e.To.Key(), p.Protocol, p.Port, p.Count, n))
			}
		}
	}
	return out
}
