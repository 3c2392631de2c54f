package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/kube"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/simulate"
)

// clusterOptions are the flags that say which cluster to simulate and how.
type clusterOptions struct {
	paths              []string
	namespace          string
	externals          []string
	ipBlockMatchesPods bool
	verbose            bool
	// kube are the kubectl connection flags: without -f, the live cluster
	// is read (live.go).
	kube *kube.Flags
}

// addFlags binds the cluster flags to o.
func (o *clusterOptions) addFlags(c *cobra.Command) {
	fs := c.Flags()
	fs.StringArrayVarP(&o.paths, "cluster", "f", nil,
		"read the cluster from `PATH`: a YAML or JSON file, a directory (recursively), or - for standard input (repeatable)")
	fs.StringVarP(&o.namespace, "namespace", "n", "",
		"namespace `NS` of the objects and endpoint names that give none (default \"default\")")
	fs.StringSliceVar(&o.externals, "external", nil,
		"add the address `IP`, outside the cluster's pods, as an endpoint (repeatable, or comma-separated)")
	fs.BoolVar(&o.ipBlockMatchesPods, "ipblock-matches-pods", true,
		"let ipBlock peers match pod addresses (upstream conformance); false for Cilium-like dataplanes")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "print what was read and compiled to stderr")
	o.kube = kube.NewFlags(&o.namespace)
	o.kube.AddFlags(fs)
	_ = c.MarkFlagFilename("cluster", "yaml", "yml", "json")
	_ = c.RegisterFlagCompletionFunc("namespace", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return o.completeNamespaces(), cobra.ShellCompDirectiveNoFileComp
	})
}

// readsStdin reports whether the cluster is read from standard input.
func (o *clusterOptions) readsStdin() bool { return slices.Contains(o.paths, "-") }

// load reads the manifests, printing the loader's warnings and skipped kinds
// to e.stderr. The report says where each object was read; it is nil for
// the live cluster, whose objects are in no file.
func (o *clusterOptions) load(e *env) (*netpol.Snapshot, *manifest.Report, error) {
	if len(o.paths) == 0 {
		snap, err := o.loadLive(context.Background(), e)
		return snap, nil, err
	}
	l := manifest.Loader{DefaultNamespace: o.namespace, Stdin: e.stdin}
	snap, rep, err := l.Load(o.paths)
	printReport(e.stderr, rep, o.verbose)
	return snap, rep, err
}

// printReport prints a load report's warnings, skipped kinds and, when
// verbose, its summary to w; nothing for a nil report.
func printReport(w io.Writer, rep *manifest.Report, verbose bool) {
	if rep == nil {
		return
	}
	var b strings.Builder
	for _, warn := range rep.Warnings {
		b.WriteString("netpol: warning: " + warn + "\n")
	}
	if len(rep.Skipped) > 0 && !verbose {
		var kinds []string
		n := 0
		for _, k := range rep.Skipped {
			kinds = append(kinds, fmt.Sprintf("%d %s", k.Count, k.Kind))
			n += k.Count
		}
		fmt.Fprintf(&b, "netpol: skipped %d object(s) of kinds netpol does not read: %s\n", n, strings.Join(kinds, ", "))
	}
	if verbose {
		b.WriteString("netpol: " + rep.String() + "\n")
	}
	io.WriteString(w, b.String())
}

// compile compiles the snapshot with the --external addresses, and adds as
// externals the addresses among names that are neither an endpoint nor a
// Service ClusterIP.
func (o *clusterOptions) compile(e *env, snap *netpol.Snapshot, names ...string) (*simulate.Engine, error) {
	opts := simulate.Options{IPBlockIgnoresPods: !o.ipBlockMatchesPods}
	for _, s := range o.externals {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--external %q is not an IP address", s)
		}
		opts.Externals = append(opts.Externals, ip)
	}
	eng, err := simulate.Compile(snap, opts)
	if err != nil {
		return nil, err
	}
	var extra []netip.Addr
	for _, n := range names {
		ip, err := netip.ParseAddr(n)
		if err != nil {
			continue
		}
		if _, ok := eng.Lookup(n); ok {
			continue
		}
		if _, ok := eng.Service(ip); ok || slices.Contains(extra, ip.Unmap()) {
			continue
		}
		extra = append(extra, ip.Unmap())
	}
	if len(extra) > 0 {
		opts.Externals = append(opts.Externals, extra...)
		if eng, err = simulate.Compile(snap, opts); err != nil {
			return nil, err
		}
	}
	if o.verbose {
		fmt.Fprintf(e.stderr, "netpol: compiled %d policies; %d endpoints in %d classes\n",
			len(eng.Policies()), len(eng.Endpoints()), eng.Classes())
	}
	return eng, nil
}

// quietSnapshot reads the manifests for shell completion: nothing printed,
// nothing read from standard input, nil on any problem.
func (o *clusterOptions) quietSnapshot() *netpol.Snapshot {
	if len(o.paths) == 0 {
		return o.quietLive()
	}
	if o.readsStdin() {
		return nil
	}
	l := manifest.Loader{DefaultNamespace: o.namespace}
	snap, _, err := l.Load(o.paths)
	if err != nil {
		return nil
	}
	return snap
}

func (o *clusterOptions) completeNamespaces() []string {
	if len(o.paths) == 0 {
		return liveNamespaces(o.kube)
	}
	snap := o.quietSnapshot()
	if snap == nil {
		return nil
	}
	var out []string
	for ns := range snap.NamespaceLabels() {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out
}

// completeEndpoints completes --from and --to with the endpoint IDs.
func (o *clusterOptions) completeEndpoints(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
	snap := o.quietSnapshot()
	if snap == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, ep := range snap.Endpoints() {
		if strings.HasPrefix(ep.ID(), prefix) {
			out = append(out, ep.ID())
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeProbes completes --probe with the endpoints' container ports.
func (o *clusterOptions) completeProbes(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if snap := o.quietSnapshot(); snap != nil {
		for _, p := range containerProbes(snap.Endpoints()) {
			out = append(out, p.String())
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// containerProbes returns every distinct numeric container port of eps as a
// probe, sorted by protocol (TCP, UDP, SCTP) and port.
func containerProbes(eps []netpol.Endpoint) []netpol.Probe {
	var out []netpol.Probe
	for _, ep := range eps {
		for _, p := range ep.Ports {
			out = append(out, netpol.Probe{Protocol: p.Protocol, Port: p.Port})
		}
	}
	slices.SortFunc(out, netpol.Probe.Compare)
	return slices.Compact(out)
}

// output is the value of -o: one of a command's formats.
type output struct {
	value   string
	allowed []string
}

// newOutput binds -o to a new output whose allowed values are values; the
// first is the default.
func newOutput(c *cobra.Command, values ...string) *output {
	o := &output{value: values[0], allowed: values}
	c.Flags().VarP(o, "output", "o", "output `FORMAT`: "+strings.Join(values, " or "))
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	return o
}

// String returns the format.
func (o *output) String() string { return o.value }

// Set sets the format, which must be one of the allowed values.
func (o *output) Set(s string) error {
	if !slices.Contains(o.allowed, s) {
		return fmt.Errorf("want %s", strings.Join(o.allowed, " or "))
	}
	o.value = s
	return nil
}

// Type names the flag's value in help.
func (o *output) Type() string { return "format" }

var _ pflag.Value = (*output)(nil)
