package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/kube"
	"github.com/netpol/netpol/internal/state"
)

// learnOptions are the flags of `netpol learn`.
type learnOptions struct {
	hubbleFiles    []string
	hubbleAddrs    []string
	namespaces     []string
	verdicts       []string
	tls            tlsOptions
	verbose        bool
	conntrack      bool
	conntrackFiles []string
	interval       time.Duration
	netns          string
	node           string
	paths          []string
	kube           *kube.Flags
	statePath      string
	checkpoint     time.Duration
	duration       time.Duration
	strict         bool
}

func newLearnCmd(e *env) *cobra.Command {
	o := &learnOptions{}
	c := &cobra.Command{
		Use:   "learn [--hubble-file PATH]... [--hubble ADDR]... [--conntrack [--interval D]] [-f PATH]... --state FILE",
		Short: "Learn the workload connectivity graph from observed flows into a state file",
		Long: `Read observed flows (Hubble captures, Hubble Relay live, the node's conntrack
table) and add
them to the connectivity graph kept in --state: which workloads talked to
which, on which protocol and port, how often, when first and last, with
forwarded and dropped traffic kept apart. The state file is created, or
extended: counts add, first and last seen widen, and the learning window of
each namespace seen widens. Feeding the same capture twice counts it twice.

Endpoints resolve to workloads through the manifests given with -f (owner
chain of pods, Service ClusterIPs to their backends, node addresses to the
host or remote-node identity), else through the workload Hubble names, else
through the pod-name pattern of controllers. A connection counts once:
replies are ignored, the client's port is dropped, and a connection seen at
both ends, or packet after packet, counts once while its packets are less
than 2 s apart.

The state file is written atomically, every --checkpoint while learning and
at the end; Ctrl-C or SIGTERM stops learning and writes it before exiting.
A state file of a newer netpol is refused and left as it is. Progress is
shown on stderr when it is a terminal; a one-line summary is printed at the
end.`,
		Example: e.example(`
  # Learn from Hubble captures (hubble observe -o json), .gz and - accepted
  NETPOL learn --hubble-file flows.json --hubble-file old.json.gz -f deploy/ --state shop.state

  # Follow Hubble Relay for a week, one namespace, checkpointing every 5 minutes
  NETPOL learn --hubble hubble-relay:4245 --namespace shop -f deploy/ --state shop.state --duration 168h --checkpoint 5m

  # Learn from this node's conntrack table for a day, as root
  NETPOL learn --conntrack --interval 5s --node "$NODE_NAME" -f deploy/ --state node.state --duration 24h

  # Learn from the conntrack table of another network namespace (a node of a
  # kind or lab cluster), resolving addresses through the live cluster
  NETPOL learn --conntrack --conntrack-netns lab-node --interval 1s --state lab.state

  # Look at what was learned
  NETPOL graph --state shop.state -o dot | dot -Tsvg > shop.svg`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(c.Context(), e) },
	}
	fs := c.Flags()
	fs.StringArrayVar(&o.hubbleFiles, "hubble-file", nil, "a Hubble capture (`PATH`, hubble observe -o json or jsonpb; .gz accepted; - for standard input), repeatable")
	fs.StringArrayVar(&o.hubbleAddrs, "hubble", nil, "a Hubble Relay (or agent) to follow live, `ADDR` host:port, repeatable")
	fs.StringSliceVar(&o.namespaces, "namespace", nil, "with --hubble: only flows from or to these namespaces (server-side filter; repeatable, or comma-separated); their learning window is recorded even when quiet")
	fs.StringSliceVar(&o.verdicts, "verdict", nil, "with --hubble: only flows of these verdicts: forwarded, dropped, audit, redirected (server-side filter)")
	o.tls.addFlags(c)
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log reconnections to Hubble on stderr")
	fs.BoolVar(&o.conntrack, "conntrack", false, "learn from the node's conntrack table (Linux, as root)")
	fs.StringArrayVar(&o.conntrackFiles, "conntrack-file", nil, "a conntrack dump (`PATH`, conntrack -L output; .gz accepted; - for standard input), repeatable")
	fs.DurationVar(&o.interval, "interval", 10*time.Second, "time between two dumps of the conntrack table")
	fs.StringVar(&o.netns, "conntrack-netns", "", "with --conntrack: dump the table of network namespace `NS` instead of netpol's own: a name under /run/netns (as ip netns names it) or a path such as /proc/PID/ns/net")
	fs.StringVar(&o.node, "node", "", "name of the node the conntrack table belongs to (its address is then the host identity)")
	fs.StringArrayVarP(&o.paths, "cluster", "f", nil, "manifests to resolve endpoints with: a YAML or JSON file, a directory, or - (repeatable); without -f, the live cluster when there is a kubeconfig")
	o.kube = kube.NewFlags(nil)
	o.kube.AddFlags(fs)
	fs.StringVar(&o.statePath, "state", "", "the state `FILE` to create or extend (required)")
	fs.DurationVar(&o.checkpoint, "checkpoint", time.Minute, "time between two writes of the state while learning")
	fs.DurationVar(&o.duration, "duration", 0, "stop learning after this long (default: when the sources end, or on Ctrl-C)")
	fs.BoolVar(&o.strict, "strict", false, "fail on the first malformed record instead of counting and skipping it")
	_ = c.MarkFlagRequired("state")
	_ = c.MarkFlagFilename("state")
	_ = c.MarkFlagFilename("hubble-file", "json", "jsonl", "gz")
	_ = c.MarkFlagFilename("cluster", "yaml", "yml", "json")
	return c
}

func (o *learnOptions) run(ctx context.Context, e *env) error {
	if err := o.validate(); err != nil {
		return err
	}
	base, _, err := state.LoadOrNew(o.statePath)
	if err != nil {
		return err
	}
	var snap *netpol.Snapshot
	if len(o.paths) > 0 {
		if snap, _, err = (&clusterOptions{paths: o.paths}).load(e); err != nil {
			return err
		}
	} else if snap, err = optionalLive(ctx, e, o.kube); err != nil {
		return err
	}
	sources, err := o.sources(e)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	l := newLearner(base, graph.NewResolver(snap), o.statePath, sources, e.stderr)
	l.observe(o.namespaces, len(o.hubbleAddrs) > 0 || o.conntrack)
	if isTerminal(e.stderr) {
		l.progress = e.stderr
	}
	return l.run(ctx, o.checkpoint)
}

func (o *learnOptions) validate() error {
	switch {
	case o.checkpoint <= 0:
		return errors.New("--checkpoint must be positive")
	case o.interval <= 0:
		return errors.New("--interval must be positive")
	case o.duration < 0:
		return errors.New("--duration must not be negative")
	case len(o.hubbleFiles) == 0 && len(o.hubbleAddrs) == 0 && len(o.conntrackFiles) == 0 && !o.conntrack:
		return errors.New("no flow source: give --hubble-file PATH, --hubble ADDR, --conntrack or --conntrack-file PATH")
	case o.netns != "" && !o.conntrack:
		return errors.New("--conntrack-netns applies to --conntrack only")
	case len(o.hubbleAddrs) == 0 && (len(o.namespaces) > 0 || len(o.verdicts) > 0 || o.tls.set()):
		return errors.New("--namespace, --verdict and --hubble-tls* apply to --hubble ADDR only")
	}
	stdin := 0
	for _, p := range append(append(append([]string(nil), o.hubbleFiles...), o.conntrackFiles...), o.paths...) {
		if p == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return errors.New("standard input (-) can be read only once")
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// plural returns "1 flow" or "2 flows".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
