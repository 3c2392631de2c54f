package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol/internal/kube"
)

// snapshotOptions are the flags of `netpol snapshot`.
type snapshotOptions struct {
	kube      *kube.Flags
	chunkSize int64
	verbose   bool
	output    *output
}

func newSnapshotCmd(e *env) *cobra.Command {
	o := &snapshotOptions{}
	c := &cobra.Command{
		Use:   "snapshot [-o yaml|json] [--chunk-size N]",
		Short: "Write the live cluster's objects that netpol reads as one manifest file",
		Long: `Read the cluster of the current kubeconfig context and write, as one
v1 List on standard output, what netpol reads: Namespaces, Nodes, Pods,
Services, EndpointSlices, workloads (Deployments, ReplicaSets,
StatefulSets, DaemonSets, Jobs, CronJobs, ReplicationControllers) and
NetworkPolicies, of every namespace. Every command reads it back with -f,
with the same result as reading the live cluster.

Each kind is listed in pages of --chunk-size objects, all kinds in
parallel. metadata.managedFields is left out. The ClusterRole
netpol-reader of deploy/rbac/reader.yaml grants what it needs.`,
		Example: e.example(`
  # Save the cluster, then simulate on the file, offline
  NETPOL snapshot > cluster.yaml
  NETPOL matrix -f cluster.yaml -n shop

  # Another context, as JSON
  NETPOL snapshot --context prod -o json > prod.json`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), e) },
	}
	fs := c.Flags()
	o.kube = kube.NewFlags(nil)
	o.kube.AddFlags(fs)
	fs.Int64Var(&o.chunkSize, "chunk-size", kube.DefaultPageSize, "list each kind in pages of `N` objects (the API server's limit and continue)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "print what was read to stderr")
	o.output = newOutput(c, "yaml", "json")
	return c
}

func (o *snapshotOptions) run(ctx context.Context, e *env) error {
	if o.chunkSize <= 0 {
		return errors.New("--chunk-size must be positive")
	}
	objs, name, err := readLive(ctx, o.kube, kube.ReadOptions{PageSize: o.chunkSize})
	if err != nil {
		return err
	}
	if err := objs.Encode(e.stdout, o.output.value); err != nil {
		return err
	}
	if o.verbose {
		for _, k := range objs.Kinds {
			fmt.Fprintf(e.stderr, "netpol: %d %s\n", len(k.Items), k.Kind)
		}
		fmt.Fprintf(e.stderr, "netpol: read %d objects from %s in %d requests\n", objs.Len(), name, objs.Requests)
	}
	return nil
}
