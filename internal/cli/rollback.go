package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol/internal/kube"
)

// rollbackOptions are the flags of `netpol rollback`.
type rollbackOptions struct {
	backup    string
	namespace string
	kube      *kube.Flags
}

func newRollbackCmd(e *env) *cobra.Command {
	o := &rollbackOptions{}
	c := &cobra.Command{
		Use:   "rollback --backup FILE [-n NS]",
		Short: "Restore the NetworkPolicies saved by netpol apply",
		Long: `Restore the NetworkPolicies of the namespaces a netpol apply covered to the
state saved in its --backup file: a saved policy that is gone is created
again, one that differs gets its saved labels, annotations and spec back,
and a policy the apply created (and that still carries
app.kubernetes.io/managed-by=netpol) is deleted. Other policies are left
alone. With -n, only that namespace is restored.

It prints one line per policy it changed.`,
		Example: e.example(`
  NETPOL apply -f policies/ --backup before.json
  NETPOL rollback --backup before.json`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), e) },
	}
	fs := c.Flags()
	fs.StringVar(&o.backup, "backup", "", "the backup `FILE` written by netpol apply (required)")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "restore only namespace `NS`")
	o.kube = kube.NewFlags(nil)
	o.kube.AddFlags(fs)
	_ = c.MarkFlagRequired("backup")
	_ = c.MarkFlagFilename("backup", "json")
	_ = c.RegisterFlagCompletionFunc("namespace", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		b, err := kube.LoadBackup(o.backup)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return b.Namespaces, cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

func (o *rollbackOptions) run(ctx context.Context, e *env) error {
	b, err := kube.LoadBackup(o.backup)
	if err != nil {
		return err
	}
	c, _, err := o.kube.Connect()
	if errors.Is(err, kube.ErrNoConfig) {
		return fmt.Errorf("no cluster to restore: %w", err)
	}
	if err != nil {
		return err
	}
	if b.Server != c.Host() {
		fmt.Fprintf(e.stderr, "netpol: warning: the backup was taken from %s, the context is %s\n", b.Server, c.Host())
	}
	done, err := c.Restore(ctx, b, o.namespace)
	for _, d := range done {
		fmt.Fprintln(e.stdout, d)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %d policies from %s\n", len(done), o.backup)
	return nil
}
