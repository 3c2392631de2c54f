package cli

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "netpol",
		Short: "Turn on Kubernetes network isolation safely: learn, generate, simulate",
		Long: `netpol makes default-deny NetworkPolicies safe to turn on: it learns the
traffic pods really send (Hubble, conntrack), generates default-deny plus the
minimal allow policies that keep it working, and simulates any policy set
(networking.k8s.io/v1, exactly) before it is applied: which pods can talk to
which, and why, rule by rule.

Give the cluster with -f: YAML or JSON files, directories of them, or - for
standard input; without -f, commands read the live cluster of the current
kubeconfig context. Namespaces, Nodes, Pods, Services, EndpointSlices,
NetworkPolicies and workloads (Deployments, StatefulSets, DaemonSets, Jobs,
CronJobs, ReplicaSets, ReplicationControllers) are read; a workload without
pods stands for the pods it would create. Other kinds are skipped.

Exit codes: 0 success, 1 a finding (simulate: an expectation not met),
2 a usage or input error.`,
		Example: e.example(`
  # The whole story on a bundled shop: learn its traffic, generate its policies, prove them
  NETPOL demo

  # Who can talk to whom in the manifests of a repository
  NETPOL matrix -f deploy/ --probe TCP/8080

  # Why is a connection denied?
  NETPOL explain -f deploy/ --from shop/cart-0 --to payments/api-0 --probe TCP/8443`),
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: e.name},
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(
		newMatrixCmd(e),
		newExplainCmd(e),
		newSimulateCmd(e),
		newDemoCmd(e),
		newLearnCmd(e),
		newMergeCmd(e),
		newGraphCmd(e),
		newGenerateCmd(e),
		newVersionCmd(e),
		newDiffCmd(e),
		newRecipeCmd(e), newAuditCmd(e),
		newSnapshotCmd(e), newApplyCmd(e), newRollbackCmd(e),
	)
	markStart(root, e)
	return root
}

// markStart makes the run function of c and of its subcommands record that
// it started, after cobra's checks of flags and arguments. It also keeps
// cobra from adding "[flags]" to the usage lines, which list them.
func markStart(c *cobra.Command, e *env) {
	c.DisableFlagsInUseLine = true
	if run := c.RunE; run != nil {
		c.RunE = func(c *cobra.Command, args []string) error {
			e.started = true
			return run(c, args)
		}
	}
	for _, sub := range c.Commands() {
		markStart(sub, e)
	}
}
