package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/demo"
	"github.com/netpol/netpol/internal/hubble"
	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/simulate"
)

// runDemo runs the story on the bundled shop: learn its recorded Hubble
// flows, generate its policies, check them with the simulator and explain
// two connections, printing each step to w. dir receives the story's
// manifests and flows, the policies in both forms and the coverage report,
// so that every command printed runs as it is. name is the program's
// display name.
func runDemo(w io.Writer, name string, o render.Options, dir string) error {
	snap, err := loadFS(demo.StoryCluster())
	if err != nil {
		return fmt.Errorf("loading the story's cluster: %w", err)
	}
	if err := exportStory(&env{stderr: io.Discard}, dir); err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "A web shop, bundled: no cluster, no network. %s\n\n", describeCluster(snap))
	g, err := learnStory(&b, snap)
	if err != nil {
		return err
	}
	r, c, err := (&generateOptions{}).generate(g, snap)
	if err != nil {
		return err
	}
	if err := writeStory(&b, r, c, dir); err != nil {
		return err
	}
	writeCheck(&b, c)
	if err := explainStory(&b, name, snap, r, dir, o); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nEverything is in %s: the story (cluster/, %s), the policies\n", dir, demo.StoryFlowsName)
	fmt.Fprintf(&b, "(policies/, cilium/) and the coverage report (coverage.txt). Each step by hand:\n")
	fmt.Fprintf(&b, "  cd %s\n", dir)
	fmt.Fprintf(&b, "  %s learn --hubble-file %s -f cluster --state shop.state\n", name, demo.StoryFlowsName)
	fmt.Fprintf(&b, "  %s generate --state shop.state -f cluster -A --out-dir policies --report coverage.txt\n", name)
	fmt.Fprintf(&b, "  %s matrix -f cluster -f policies -n shop\n", name)
	_, err = w.Write(b.Bytes())
	return err
}

// describeCluster says what the cluster holds.
func describeCluster(snap *netpol.Snapshot) string {
	return fmt.Sprintf("%d pods of %d workloads in %d namespaces, and %d NetworkPolicies:\nevery pod can reach every other on every port.",
		len(snap.Pods), len(snap.Workloads), len(snap.Namespaces), len(snap.Policies))
}

// learnStory feeds the recorded flows through the Hubble file decoder into
// a graph, and prints what was learned.
func learnStory(b *bytes.Buffer, snap *netpol.Snapshot) (*graph.Graph, error) {
	builder := graph.NewBuilder(graph.NewResolver(snap), nil, graph.Options{})
	src := hubble.NewFileSource([]string{"-"}, hubble.FileOptions{Strict: true, Stdin: bytes.NewReader(demo.StoryFlows())})
	var first, last time.Time
	err := src.Run(context.Background(), func(f *netpol.Flow) error {
		if first.IsZero() || f.Time.Before(first) {
			first = f.Time
		}
		if f.Time.After(last) {
			last = f.Time
		}
		builder.Add(f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the story's flows: %w", err)
	}
	g := builder.Graph()
	st := builder.Stats()
	edges, _ := g.Len()
	fmt.Fprintf(b, "1. Learn: %d Hubble flows (hubble observe -o json), %s to %s UTC,\n", st.Flows,
		first.UTC().Format("2006-01-02 15:04:05"), last.UTC().Format("15:04:05"))
	fmt.Fprintf(b, "   are %d connections (%d replies set aside) between workloads: %d edges.\n\n", st.Counted, st.Replies, edges)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   FROM\tTO\tPORTS\tCONNECTIONS")
	for _, e := range g.Edges() {
		var ports, counts []string
		for _, p := range e.Forwarded {
			ports = append(ports, p.Protocol.String()+"/"+fmt.Sprint(p.Port))
			counts = append(counts, fmt.Sprint(p.Count))
		}
		to := e.To.String()
		if names := g.Names(e.To.Addr()); len(names) > 0 {
			to += " (" + strings.Join(names, ", ") + ")"
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", e.From, to, strings.Join(ports, " "), strings.Join(counts, " "))
	}
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	return g, nil
}

// writeStory writes the policies, both forms, and the coverage report
// into dir, and prints them.
func writeStory(b *bytes.Buffer, r *generate.Result, c *generate.Check, dir string) error {
	docs := policyDocs(r, false)
	if _, err := writeDir(filepath.Join(dir, "policies"), docs, "yaml"); err != nil {
		return err
	}
	cilium := policyDocs(r, true)
	if _, err := writeDir(filepath.Join(dir, "cilium"), cilium, "yaml"); err != nil {
		return err
	}
	var report strings.Builder
	writeReport(&report, r, c, reportMeta{state: "(learned by the demo)", cluster: []string{filepath.Join(dir, "cluster")}})
	if err := writeFile(filepath.Join(dir, "coverage.txt"), []byte(report.String())); err != nil {
		return err
	}
	namespaces := 0
	for _, ns := range r.Namespaces {
		if ns.Policed {
			namespaces++
		}
	}
	fmt.Fprintf(b, "\n2. Generate: %d NetworkPolicies for %d namespaces, written to %s\n", len(r.Policies), namespaces, filepath.Join(dir, "policies"))
	fmt.Fprintf(b, "   (as CiliumNetworkPolicies to %s):\n\n", filepath.Join(dir, "cilium"))
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	byNS := map[string][]string{}
	var order []string
	for _, np := range r.Policies {
		if byNS[np.Namespace] == nil {
			order = append(order, np.Namespace)
		}
		byNS[np.Namespace] = append(byNS[np.Namespace], np.Name)
	}
	for _, ns := range order {
		fmt.Fprintf(tw, "   %s.yaml\t%s\n", ns, strings.Join(byNS[ns], ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(b, "\n   Each workload's pods are selected by the fewest stable labels, and each rule\n")
	fmt.Fprintf(b, "   carries its evidence (flows, first and last seen) in an annotation.\n")
	fmt.Fprintf(b, "   DNS: %s.\n", describeDNS(r.DNS))
	fmt.Fprintf(b, "   The card provider is allowed by its two addresses, and by name (toFQDNs\n")
	fmt.Fprintf(b, "   api.payment-provider.example) in the Cilium form.\n")
	for _, n := range r.Notes {
		fmt.Fprintf(b, "   Note: %s.\n", noteText(n))
	}
	return nil
}

// writeCheck prints the guarantee check.
func writeCheck(b *bytes.Buffer, c *generate.Check) {
	verdict := "both guarantees hold"
	if !c.OK() {
		verdict = "a guarantee FAILS"
	}
	fmt.Fprintf(b, "\n3. Check, with the simulator, the policies as they would be in the cluster: %s.\n", verdict)
	fmt.Fprintf(b, "   Every observed connection is allowed: %d of %d.\n", c.Observed-len(c.Denied), c.Observed)
	fmt.Fprintf(b, "   Nothing else is, DNS aside: %d unobserved connections among %d pairs of workloads,\n", len(c.Unexpected), c.Pairs)
	fmt.Fprintf(b, "   on %d probes that stand for every port of every protocol.\n", len(c.Probes))
}

// explainStory compiles the cluster with the generated policies and
// explains the story's allowed and denied connections.
func explainStory(b *bytes.Buffer, name string, snap *netpol.Snapshot, r *generate.Result, dir string, o render.Options) error {
	withPolicies := *snap
	withPolicies.Policies = append(append(withPolicies.Policies[:0:0], snap.Policies...), r.Policies...)
	eng, err := simulate.Compile(&withPolicies, simulate.Options{})
	if err != nil {
		return fmt.Errorf("compiling the generated policies: %w", err)
	}
	for i, x := range []struct{ title, from, to, probe string }{
		{"Why may the web frontend call the cart? It did, so its policies allow it.",
			demo.StoryAllowedFrom, demo.StoryAllowedTo, demo.StoryAllowedProbe},
		{"Why can't it call the payments API directly? It never did.",
			demo.StoryDeniedFrom, demo.StoryDeniedTo, demo.StoryDeniedProbe},
	} {
		src, ok1 := eng.Lookup(x.from)
		dst, ok2 := eng.Lookup(x.to)
		p, err := netpol.ParseProbe(x.probe)
		if !ok1 || !ok2 || err != nil {
			return fmt.Errorf("the story's endpoints %s and %s are not in its cluster", x.from, x.to)
		}
		fmt.Fprintf(b, "\n%d. %s\n$ %s explain -f %s -f %s --from %s --to %s --probe %s\n",
			4+i, x.title, name, filepath.Join(dir, "cluster"), filepath.Join(dir, "policies"), x.from, x.to, p)
		if err := render.ExplanationText(b, eng.Explain(src, dst, p), o); err != nil {
			return err
		}
	}
	return nil
}
