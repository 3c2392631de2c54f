package cli

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/internal/state"
)

// graphOptions are the flags of `netpol graph`.
type graphOptions struct {
	statePath string
	namespace string
	output    *output
}

func newGraphCmd(e *env) *cobra.Command {
	o := &graphOptions{}
	c := &cobra.Command{
		Use:   "graph --state FILE [-n NS] [-o dot|mermaid|json]",
		Short: "Render a learned connectivity graph",
		Long: `Render the connectivity graph of a state file written by learn or merge:
workloads (and bare pods) grouped by namespace, externals by address, reserved
identities (host, remote-node, world, kube-apiserver) by name; an edge per
pair that talked, labelled with its protocols, ports and connection counts,
and dropped traffic apart (dashed and red in DOT, dotted in Mermaid).

With -n, only the edges with an end in that namespace are shown.

DOT (Graphviz) and Mermaid draw namespaces as clusters. The JSON is a stable
contract:
  {"nodes":[{"id":"shop/cart","namespace":"shop","workload":"cart","kind":"Deployment"},
            {"id":"203.0.113.7","kind":"External","address":"203.0.113.7"},
            {"id":"reserved:host","kind":"Reserved","reserved":"host"}],
   "edges":[{"from":"shop/web","to":"shop/cart",
             "ports":[{"protocol":"TCP","port":8080,"count":12,
                       "firstSeen":"...","lastSeen":"..."}],
             "dropped":[...]}]}
Node ids are "namespace/name", or "namespace/kind/name" when two workloads
of different kinds share a name. Nodes are sorted by id, edges by from and
to, ports by protocol and port; "dropped" is present only when some
traffic was dropped.`,
		Example: e.example(`
  NETPOL graph --state shop.state -o dot | dot -Tsvg > shop.svg
  NETPOL graph --state shop.state -n shop -o mermaid
  NETPOL graph --state shop.state -o json | jq '.edges[] | select(.dropped)'`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return o.run(e) },
	}
	c.Flags().StringVar(&o.statePath, "state", "", "the state `FILE` to render (required)")
	c.Flags().StringVarP(&o.namespace, "namespace", "n", "", "show only the edges with an end in this namespace")
	o.output = newOutput(c, "dot", "mermaid", "json")
	_ = c.MarkFlagRequired("state")
	_ = c.MarkFlagFilename("state")
	return c
}

func (o *graphOptions) run(e *env) error {
	g, err := state.Load(o.statePath)
	if err != nil {
		return err
	}
	if o.namespace != "" {
		if !slices.Contains(g.Namespaces(), o.namespace) {
			return fmt.Errorf("namespace %q: nothing learned there (namespaces: %v)", o.namespace, g.Namespaces())
		}
		g = g.Namespace(o.namespace)
	}
	switch o.output.value {
	case "json":
		return render.GraphJSON(e.stdout, g)
	case "mermaid":
		return render.GraphMermaid(e.stdout, g)
	}
	return render.GraphDOT(e.stdout, g)
}
