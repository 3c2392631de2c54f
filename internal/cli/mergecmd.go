package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/state"
)

// mergeOptions are the flags of `netpol merge`.
type mergeOptions struct {
	out string
}

func newMergeCmd(e *env) *cobra.Command {
	o := &mergeOptions{}
	c := &cobra.Command{
		Use:   "merge STATE STATE... -o OUT",
		Short: "Merge learned state files into one",
		Long: `Merge the connectivity learned by several learners (sharded by namespace,
or replicas on several nodes) into one state file: counts add, first and last
seen widen, the learning window of each namespace widens. Merging is
associative and commutative, so the order of the files does not matter and
merged files merge again.

OUT is written atomically; it may be one of the inputs. A state file of a
newer netpol is refused, as input or as OUT, and never overwritten.`,
		Example: e.example(`
  # One learner per namespace, then one picture
  NETPOL merge shop.state billing.state -o cluster.state`),
		Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error { return o.run(e, args) },
	}
	c.Flags().StringVarP(&o.out, "output", "o", "", "the merged state `FILE` to write (required)")
	_ = c.MarkFlagRequired("output")
	_ = c.MarkFlagFilename("output")
	return c
}

func (o *mergeOptions) run(e *env, paths []string) error {
	out := graph.New()
	for _, p := range paths {
		g, err := state.Load(p)
		if err != nil {
			return err
		}
		out.Merge(g)
	}
	if err := state.Save(o.out, out); err != nil {
		return err
	}
	edges, _ := out.Len()
	fmt.Fprintf(e.stderr, "netpol: merged %d state files into %s: %d edges, %d namespaces\n", len(paths), o.out, edges, len(out.Windows()))
	return nil
}
