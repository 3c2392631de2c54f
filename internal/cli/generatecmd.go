package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/generate"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/kube"
	"github.com/netpol/netpol/internal/state"
)

// generateOptions are the flags of `netpol generate`.
type generateOptions struct {
	statePath  string
	paths      []string
	namespaces []string
	all        bool
	format     *output
	output     *output
	outDir     string
	force      bool
	reportPath string
	lockIdle   bool
	cidrPrefix int
	namedPorts bool
	portRanges bool
	kube       *kube.Flags
}

func newGenerateCmd(e *env) *cobra.Command {
	o := &generateOptions{}
	c := &cobra.Command{
		Use: "generate --state FILE [-f PATH...] [-n NS | -A] [--format k8s|cilium] [-o yaml|json] [--out-dir DIR]\n" +
			"  [--force] [--report FILE] [--lock-idle] [--cidr-prefix N] [--named-ports] [--port-ranges]",
		Short: "Generate default-deny plus minimal allow NetworkPolicies from learned traffic, proven by the simulator",
		Long: `Generate, for each namespace, the NetworkPolicies that keep every connection
learned in --state working and allow nothing else:

  default-deny  every pod, ingress and egress, no rules
  allow-dns     egress to the cluster DNS as the cluster really has it: the
                kube-dns Service's selector and target ports (or the DNS
                workloads seen in the flows), UDP and TCP; and on port 53
                the Service's addresses and the NodeLocal DNSCache
                addresses seen in the flows
  <workload>    one policy per workload that saw traffic, selecting exactly
                its pods by the fewest stable labels, with a rule per group
                of peers sharing ports: pods by podSelector (and the
                namespace's name), external addresses as ipBlocks, the API
                server and nodes by their addresses

In the namespace of the DNS pods, allow-dns-from-cluster lets every pod
reach them. Each rule carries its evidence in an annotation
(evidence.netpol.dev/ingress-0: peer, port, flow count, first and last
seen). The cluster (-f, or the live cluster) gives labels, ports, the DNS,
the nodes and the API server; its NetworkPolicies are kept.

Before writing anything, the result is simulated together with the
cluster's own policies: every observed forwarded connection must be
allowed, and no two workloads may be connected unless they were observed
to be, except DNS. If either fails, generate writes nothing, prints the
connections at fault and exits 1; --force writes anyway. A namespace whose
workloads saw no traffic while learning is reported and left alone
(--lock-idle gives it a default deny). Without -n, kube-system, kube-public
and kube-node-lease are left out unless named.

--format cilium writes CiliumNetworkPolicies (cilium.io/v2) with the same
rules, external addresses resolved through DNS as toFQDNs names, the DNS
proxy rule those need, and the entities kube-apiserver, host, remote-node
and world. The output applies with kubectl apply as it is. --report writes
the coverage report: per namespace its learning window, per rule its
evidence, the rules seen once, the idle workloads and namespaces.

Exit codes: 0 the policies are proven, 1 a guarantee fails, 2 a usage or
input error.`,
		Example: e.example(`
  # Learn, then generate for two namespaces into a directory
  NETPOL learn --hubble-file flows.json -f deploy/ --state shop.state
  NETPOL generate --state shop.state -f deploy/ -n shop -n payments --out-dir policies/

  # Every namespace, as Cilium policies, with the coverage report
  NETPOL generate --state shop.state -f deploy/ -A --format cilium --report coverage.txt > cnp.yaml

  # Check the result again later, against the manifests with the policies
  NETPOL matrix -f deploy/ -f policies/ -n shop`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return o.run(e) },
	}
	fs := c.Flags()
	fs.StringVar(&o.statePath, "state", "", "the learned state `FILE` (written by learn or merge; required)")
	fs.StringArrayVarP(&o.paths, "cluster", "f", nil,
		"read the cluster from `PATH`: a YAML or JSON file, a directory (recursively), or - for standard input (repeatable); without it, the live cluster")
	fs.StringSliceVarP(&o.namespaces, "namespace", "n", nil, "generate for namespace `NS` (repeatable, or comma-separated)")
	fs.BoolVarP(&o.all, "all-namespaces", "A", false, "generate for every namespace with workloads (but kube-system, kube-public and kube-node-lease)")
	o.format = newValueFlag(c, "format", "policy `KIND`: k8s (NetworkPolicy) or cilium (CiliumNetworkPolicy)", "k8s", "cilium")
	o.output = newOutput(c, "yaml", "json")
	fs.StringVar(&o.outDir, "out-dir", "", "write one file per namespace into `DIR` (NS.yaml or NS.json) instead of standard output")
	fs.BoolVar(&o.force, "force", false, "write the policies even when a guarantee fails (the report lists the failures)")
	fs.StringVar(&o.reportPath, "report", "", "write the coverage report to `FILE`")
	fs.BoolVar(&o.lockIdle, "lock-idle", false, "give a namespace that saw no traffic a default deny (and nothing else)")
	fs.IntVar(&o.cidrPrefix, "cidr-prefix", 0, "widen external IPv4 addresses to /`N` blocks (IPv6 keeps as many host bits); default single addresses")
	fs.BoolVar(&o.namedPorts, "named-ports", false, "write a port by its container port name when every destination pod gives it that name")
	fs.BoolVar(&o.portRanges, "port-ranges", false, "write runs of consecutive ports as one port with endPort")
	o.kube = kube.NewFlags(nil)
	o.kube.AddFlags(fs)
	_ = c.MarkFlagRequired("state")
	_ = c.MarkFlagFilename("state")
	_ = c.MarkFlagFilename("cluster", "yaml", "yml", "json")
	_ = c.MarkFlagFilename("report")
	_ = c.MarkFlagDirname("out-dir")
	return c
}

func (o *generateOptions) run(e *env) error {
	if err := o.validate(); err != nil {
		return err
	}
	g, err := state.Load(o.statePath)
	if err != nil {
		return err
	}
	snap, _, err := (&clusterOptions{paths: o.paths, kube: o.kube}).load(e)
	if err != nil {
		return err
	}
	if err := o.checkNamespaces(snap); err != nil {
		return err
	}
	r, c, err := o.generate(g, snap)
	if err != nil {
		return err
	}
	return o.finish(e, r, c)
}

func (o *generateOptions) validate() error {
	switch {
	case len(o.namespaces) == 0 && !o.all:
		return errors.New("say which namespaces to generate for: -n NS (repeatable) or -A for every namespace")
	case len(o.namespaces) > 0 && o.all:
		return errors.New("-n and -A exclude each other")
	case o.cidrPrefix < 0 || o.cidrPrefix > 32:
		return fmt.Errorf("--cidr-prefix %d: want 1 to 32", o.cidrPrefix)
	}
	return nil
}

// checkNamespaces refuses a -n namespace without workloads in the cluster.
func (o *generateOptions) checkNamespaces(snap *netpol.Snapshot) error {
	have := map[string]bool{}
	for _, ep := range snap.Endpoints() {
		have[ep.Namespace] = true
	}
	var errs []error
	for _, ns := range o.namespaces {
		if !have[ns] {
			errs = append(errs, fmt.Errorf("namespace %q has no workloads in the cluster", ns))
		}
	}
	return errors.Join(errs...)
}

// generate runs the generator and the guarantee check.
func (o *generateOptions) generate(g *graph.Graph, snap *netpol.Snapshot) (*generate.Result, *generate.Check, error) {
	opts := generate.Options{Namespaces: o.namespaces, LockIdle: o.lockIdle, CIDRPrefix: o.cidrPrefix,
		NamedPorts: o.namedPorts, PortRanges: o.portRanges}
	r, err := generate.Policies(g, snap, opts)
	if err != nil {
		return nil, nil, err
	}
	c, err := generate.Verify(g, snap, r)
	if err != nil {
		return nil, nil, err
	}
	return r, c, nil
}

// finish prints the summary, and writes the policies and the report unless
// a guarantee fails without --force.
func (o *generateOptions) finish(e *env, r *generate.Result, c *generate.Check) error {
	printSummary(e.stderr, r, c)
	if !c.OK() {
		printFaults(e.stderr, c, 20)
		if !o.force {
			return &exitError{code: ExitFindings, err: errors.New("a guarantee fails: nothing written (--force writes anyway)")}
		}
	}
	if err := o.write(e, r); err != nil {
		return err
	}
	if o.reportPath != "" {
		var b strings.Builder
		writeReport(&b, r, c, reportMeta{state: o.statePath, cluster: o.paths})
		if err := writeFile(o.reportPath, []byte(b.String())); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "netpol: wrote the coverage report to %s\n", o.reportPath)
	}
	if !c.OK() {
		return &exitError{code: ExitFindings, err: errors.New("a guarantee fails: written anyway (--force)")}
	}
	return nil
}

// write writes the policies to stdout or, with --out-dir, one file per
// namespace.
func (o *generateOptions) write(e *env, r *generate.Result) error {
	docs := policyDocs(r, o.format.value == "cilium")
	if o.outDir == "" {
		return writeDocs(e.stdout, docs, o.output.value)
	}
	files, err := writeDir(o.outDir, docs, o.output.value)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "netpol: wrote %s to %s: %s\n", plural(int64(len(docs)), "policy", "policies"), o.outDir, strings.Join(files, ", "))
	return nil
}

// printSummary prints what was generated and the verdict of the check.
func printSummary(w io.Writer, r *generate.Result, c *generate.Check) {
	var b strings.Builder
	workloads, withPolicy, policed := 0, 0, 0
	for _, ns := range r.Namespaces {
		if ns.Policed {
			policed++
		}
		for _, wl := range ns.Workloads {
			workloads++
			if wl.Policy != "" {
				withPolicy++
			}
		}
	}
	fmt.Fprintf(&b, "netpol: generated %s for %s of %d (%d of %d workloads with a policy of their own)\n",
		plural(int64(len(r.Policies)), "policy", "policies"), plural(int64(policed), "namespace", "namespaces"), len(r.Namespaces), withPolicy, workloads)
	if r.DNS.Found() {
		fmt.Fprintf(&b, "netpol: cluster DNS: %s\n", describeDNS(r.DNS))
	}
	verdict := "hold"
	if !c.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "netpol: guarantees %s: %d of %d observed connections allowed; %d unobserved connections allowed among %d pairs of workloads on %d probes\n",
		verdict, c.Observed-len(c.Denied), c.Observed, len(c.Unexpected), c.Pairs, len(c.Probes))
	if len(c.Existing) > 0 {
		fmt.Fprintf(&b, "netpol: %d unobserved connections stay allowed by the cluster's own policies (see --report)\n", len(c.Existing))
	}
	if len(c.Unchecked) > 0 {
		fmt.Fprintf(&b, "netpol: %d observed connections could not be checked (see --report)\n", len(c.Unchecked))
	}
	for _, n := range r.Notes {
		b.WriteString("netpol: note: " + noteText(n) + "\n")
	}
	io.WriteString(w, b.String())
}

// printFaults prints up to max faults of each failing guarantee.
func printFaults(w io.Writer, c *generate.Check, max int) {
	var b strings.Builder
	for _, l := range []struct {
		what   string
		faults []generate.Fault
	}{{"observed but denied", c.Denied}, {"allowed but never observed", c.Unexpected}} {
		for i, f := range l.faults {
			if i == max {
				fmt.Fprintf(&b, "netpol:   ... and %d more\n", len(l.faults)-max)
				break
			}
			fmt.Fprintf(&b, "netpol:   %s: %s\n", l.what, f)
		}
	}
	io.WriteString(w, b.String())
}

// noteText renders a note: "subject: message", "namespace NS: message".
func noteText(n generate.Note) string {
	switch {
	case n.Subject != "":
		return n.Subject + ": " + n.Message
	case n.Namespace != "":
		return "namespace " + n.Namespace + ": " + n.Message
	}
	return n.Message
}

// describeDNS says what allow-dns allows: "pods k8s-app=kube-dns of
// kube-system on TCP/53 UDP/53, and 10.96.0.10 (found: Service
// kube-system/kube-dns)".
func describeDNS(d generate.DNS) string {
	var what []string
	var ports []string
	for _, p := range d.Ports {
		ports = append(ports, p.String())
	}
	for _, sel := range d.Selectors {
		what = append(what, "pods "+formatSelector(sel)+" of "+d.Namespace+" on "+strings.Join(ports, " "))
	}
	var addrs []string
	for _, a := range d.Addresses {
		addrs = append(addrs, a.String())
	}
	if len(addrs) > 0 {
		what = append(what, strings.Join(addrs, ", "))
	}
	return fmt.Sprintf("%s (found: %s)", strings.Join(what, ", and "), d.Source)
}

// formatSelector renders matchLabels as "k=v,k2=v2", sorted.
func formatSelector(l map[string]string) string {
	var parts []string
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
