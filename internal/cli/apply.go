package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netpol/netpol/internal/kube"
	"github.com/netpol/netpol/internal/manifest"
)

// applyOptions are the flags of `netpol apply`.
type applyOptions struct {
	paths         []string
	namespace     string
	allNamespaces bool
	prune         bool
	verbose       bool
	dryRun        bool
	kube          *kube.Flags
	stage         bool
	wait          time.Duration
	hubble        string
	tls           tlsOptions
	statePath     string
	backup        string
}

func newApplyCmd(e *env) *cobra.Command {
	o := &applyOptions{}
	c := &cobra.Command{
		Use:   "apply -f DIR [-n NS | -A] [--prune] [--dry-run | --backup FILE] [--stage [--wait D] [--hubble ADDR --state FILE]]",
		Short: "Apply NetworkPolicies to the live cluster safely: dry-run, diff, backup, staged rollout",
		Long: `Apply the NetworkPolicies of -f (files or directories; other kinds are
ignored) to the cluster of the current kubeconfig context, in four steps:

 1. A server-side dry-run of every policy and deletion: the API server
    validates them, and any problem stops the apply before any change.
 2. The diff against the live policies: one line per policy to add,
    change, delete or keep (with -v, per unchanged policy too), and a
    summary. --dry-run stops here, having changed nothing.
 3. A backup of every live policy of the namespaces involved (and of the
    names it creates) to --backup, written atomically before the first
    change; netpol rollback --backup FILE restores it exactly.
 4. Server-side apply with the field manager "netpol".

A policy netpol creates gets the label app.kubernetes.io/managed-by=netpol.
A live policy that is not in -f is deleted when it has that label, and kept
otherwise, unless --prune is given. The namespaces involved are those of the
policies in -f; with -n, only NS (every policy must be in it, or give none);
with -A, every namespace, for deletions too.

--stage rolls out namespace by namespace (in name order), in each the
policies with rules before those that only deny, pausing --wait between
namespaces. With --hubble, it follows Hubble Relay's dropped flows of the
namespace for --wait after each one; if any connection that the learned
state (--state, from netpol learn) had seen forwarded is dropped, it rolls
that namespace back to the backup and stops with exit code 1.

The ClusterRole netpol-applier of deploy/rbac/applier.yaml grants what it
needs.`,
		Example: e.example(`
  # See what would change, then apply
  NETPOL apply -f policies/ --dry-run
  NETPOL apply -f policies/ --backup before.json

  # One namespace at a time, watching Hubble for regressions for 5 minutes each
  NETPOL apply -f policies/ --stage --wait 5m --hubble hubble-relay:4245 --state shop.state

  # Undo
  NETPOL rollback --backup before.json`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), e) },
	}
	fs := c.Flags()
	fs.StringArrayVarP(&o.paths, "filename", "f", nil, "the NetworkPolicies to apply: a YAML or JSON `PATH`, a directory (recursively), or - (repeatable)")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "only namespace `NS`; policies without a namespace go there (default: the context's namespace)")
	fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "compare the policies of every namespace, for deletions too")
	fs.BoolVar(&o.prune, "prune", false, "also delete live policies not in -f that netpol did not create")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would change and stop: server-side dry-run only, nothing changed")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "list unchanged policies too")
	o.kube = kube.NewFlags(&o.namespace)
	o.kube.AddFlags(fs)
	fs.StringVar(&o.backup, "backup", "", "save the policies it may touch to `FILE` before the first change (default netpol-backup-TIME.json)")
	fs.BoolVar(&o.stage, "stage", false, "roll out namespace by namespace, policies with rules before deny-only ones")
	fs.DurationVar(&o.wait, "wait", 30*time.Second, "with --stage: pause between namespaces, and how long --hubble watches each")
	fs.StringVar(&o.hubble, "hubble", "", "with --stage: follow the dropped flows of Hubble Relay `ADDR` (host:port) during each pause")
	o.tls.addFlags(c)
	fs.StringVar(&o.statePath, "state", "", "with --hubble: the learned state `FILE`; a dropped connection it saw forwarded rolls the namespace back")
	_ = c.MarkFlagFilename("backup", "json")
	_ = c.MarkFlagFilename("state")
	_ = c.MarkFlagRequired("filename")
	_ = c.MarkFlagFilename("filename", "yaml", "yml", "json")
	_ = c.RegisterFlagCompletionFunc("namespace", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return liveNamespaces(o.kube), cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

func (o *applyOptions) validate() error {
	switch {
	case o.allNamespaces && o.namespace != "":
		return errors.New("-n and -A cannot be used together")
	case !o.stage && o.hubble != "":
		return errors.New("--hubble needs --stage")
	case o.hubble != "" && o.statePath == "":
		return errors.New("--hubble needs --state FILE: the learned state that says which dropped flows are regressions")
	case o.hubble == "" && (o.statePath != "" || o.tls.set()):
		return errors.New("--state and --hubble-tls* apply to --hubble only")
	case o.wait < 0:
		return errors.New("--wait must not be negative")
	case o.dryRun && (o.stage || o.backup != ""):
		return errors.New("--dry-run changes nothing: --stage and --backup do not apply")
	}
	return nil
}

// plan connects, reads the policies of -f and plans the apply (with its
// server-side dry-run).
func (o *applyOptions) plan(ctx context.Context, e *env) (*kube.Client, *kube.Plan, error) {
	c, contextNS, err := o.kube.Connect()
	if errors.Is(err, kube.ErrNoConfig) {
		return nil, nil, fmt.Errorf("no cluster to apply to: %w", err)
	}
	if err != nil {
		return nil, nil, err
	}
	desired, err := o.policies(e, cmp.Or(o.namespace, contextNS))
	if err != nil {
		return nil, nil, err
	}
	po := kube.PlanOptions{AllNamespaces: o.allNamespaces, Prune: o.prune}
	if o.namespace != "" {
		po.Namespaces = []string{o.namespace}
	}
	if len(desired) == 0 && o.namespace == "" && !o.allNamespaces {
		return nil, nil, fmt.Errorf("no NetworkPolicy in %s (to delete policies, say where with -n or -A)", strings.Join(o.paths, ", "))
	}
	p, err := c.Plan(ctx, desired, po)
	if err != nil {
		return nil, nil, errors.Join(errors.New("nothing was changed:"), err)
	}
	return c, p, nil
}

// policies reads the NetworkPolicies of -f, in namespace ns when they name
// none; with -n, each must be in it.
func (o *applyOptions) policies(e *env, ns string) ([]networkingv1.NetworkPolicy, error) {
	l := manifest.Loader{DefaultNamespace: ns, Stdin: e.stdin}
	snap, rep, err := l.Load(o.paths)
	printReport(e.stderr, rep, false)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range snap.Policies {
		if o.namespace != "" && p.Namespace != o.namespace {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s/%s is not in namespace %q given with -n", p.Namespace, p.Name, o.namespace))
		}
	}
	return snap.Policies, errors.Join(errs...)
}

func (o *applyOptions) run(ctx context.Context, e *env) error {
	if err := o.validate(); err != nil {
		return err
	}
	c, p, err := o.plan(ctx, e)
	if err != nil {
		return err
	}
	writePlan(e.stdout, p, o.verbose)
	changes := p.Changes("")
	if o.dryRun {
		return nil
	}
	if len(changes) == 0 {
		fmt.Fprintln(e.stdout, "nothing to change")
		return nil
	}
	path := o.backup
	if path == "" {
		path = "netpol-backup-" + time.Now().UTC().Format("20060102T150405Z") + ".json"
	}
	backup := c.NewBackup(p)
	if err := backup.Save(path); err != nil {
		return fmt.Errorf("nothing was changed: %w", err)
	}
	fmt.Fprintf(e.stderr, "netpol: saved %d live policies and %d to create to %s\n", len(backup.Policies), len(backup.Created), path)
	if o.stage {
		return o.staged(ctx, e, c, p, backup, path)
	}
	n := 0
	if err := c.Execute(ctx, changes, func(s kube.Step) { n++; printStep(e, s) }); err != nil {
		return fmt.Errorf("%w\n%d of %d changes were made; undo them with: %s rollback --backup %s", err, n, len(changes), e.name, path)
	}
	fmt.Fprintf(e.stdout, "applied %d changes\n", n)
	return nil
}

// writePlan prints the steps of p, one per line, and a summary.
func writePlan(w io.Writer, p *kube.Plan, verbose bool) {
	var b strings.Builder
	for _, s := range p.Steps {
		switch s.Action {
		case kube.Unchanged:
			if verbose {
				fmt.Fprintf(&b, "%-10s %s\n", s.Action, s.ID())
			}
		case kube.Keep:
			fmt.Fprintf(&b, "%-10s %s (not created by netpol; --prune deletes it)\n", s.Action, s.ID())
		default:
			fmt.Fprintf(&b, "%-10s %s\n", s.Action, s.ID())
		}
	}
	n := p.Counts()
	fmt.Fprintf(&b, "%d to add, %d to change, %d to delete, %d kept, %d unchanged\n",
		n[kube.Add], n[kube.Change], n[kube.Delete], n[kube.Keep], n[kube.Unchanged])
	io.WriteString(w, b.String())
}

// printStep prints a step carried out: "added shop/allow-web".
func printStep(e *env, s kube.Step) {
	past := map[kube.Action]string{kube.Add: "added", kube.Change: "changed", kube.Delete: "deleted"}[s.Action]
	fmt.Fprintf(e.stdout, "%s %s\n", past, s.ID())
}
