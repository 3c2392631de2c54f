package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/netpol/netpol/audit"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/render"
)

// auditOptions are the flags of `netpol audit`.
type auditOptions struct {
	cluster       clusterOptions
	allNamespaces bool
	output        *output
	failOn        severityFlag
}

func newAuditCmd(e *env) *cobra.Command {
	o := &auditOptions{failOn: severityFlag{audit.High}}
	c := &cobra.Command{
		Use:   "audit [-f PATH... | live] [-n NS | -A] [-o table|json|sarif] [--fail-on SEVERITY]",
		Short: "Report what the cluster's policies leave open, with the recipe that fixes each finding",
		Long: `Audit the cluster's NetworkPolicies: namespaces without a default-deny for
ingress or for egress, pods that no policy isolates, policies that select no
pod, rules that allow every namespace or every address (0.0.0.0/0, ::/0),
egress allowed to the cloud metadata address, to etcd, to the API server or
to node ports, namespaces whose egress policies deny DNS, named ports that
resolve on no pod, and rules shadowed by broader ones.

Each finding has a severity (info, low, medium, high, critical), the object
and field at fault, why it matters and the recipe or command that fixes it.
The cluster is read from -f, or from the live cluster without -f (or with
the argument live). With -n, only the findings of that namespace are
reported (the checks still see the whole cluster); without it, or with -A,
those of every namespace.

Egress checks ask the simulator: the metadata address, the nodes' addresses
(from Node objects) and the API server's endpoints (the EndpointSlices of
the kubernetes Service) are probed from every pod an egress policy selects.
The DNS check probes the kube-dns Service's pods on 53/UDP, or, when the
cluster has none, pods labelled k8s-app=kube-dns in kube-system. Checks that
cannot run fully say so on stderr.

-o sarif writes SARIF 2.1.0 for GitHub code scanning, located at the file
and line of each object or field when the cluster was read from files.

The exit code is 1 when a finding is at least as severe as --fail-on
(default high; none never fails), 2 on an input error.`,
		Example: e.example(`
  # Audit the manifests of a repository
  NETPOL audit -f deploy/

  # Only the findings of one namespace, and fail on medium ones
  NETPOL audit -f deploy/ -n shop --fail-on medium

  # For GitHub code scanning (upload audit.sarif with github/codeql-action/upload-sarif)
  NETPOL audit -f deploy/ -o sarif --fail-on none > audit.sarif

  # The live cluster of the current kubeconfig context
  NETPOL audit live -A`),
		Args: func(c *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(c, args); err != nil {
				return err
			}
			if len(args) == 1 && args[0] != "live" {
				return fmt.Errorf("unknown argument %q: the only argument is live, to audit the live cluster", args[0])
			}
			return nil
		},
		ValidArgs: []string{"live"},
		RunE:      func(_ *cobra.Command, args []string) error { return o.run(e, len(args) == 1) },
	}
	o.cluster.addFlags(c)
	_ = c.Flags().MarkHidden("external") // the audit adds the addresses it probes itself
	c.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "report the findings of every namespace (the default without -n)")
	o.output = newOutput(c, "table", "json", "sarif")
	c.Flags().Var(&o.failOn, "fail-on", "exit 1 when a finding is at least as severe as `SEVERITY`: "+
		strings.Join(audit.Severities(), ", ")+", or none")
	_ = c.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(append(audit.Severities(), "none"), cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (o *auditOptions) run(e *env, live bool) error {
	switch {
	case live && len(o.cluster.paths) > 0:
		return errors.New("live and -f cannot be used together: audit either the live cluster or files")
	case o.allNamespaces && o.cluster.namespace != "":
		return errors.New("-n and -A cannot be used together")
	}
	snap, loaded, err := o.cluster.load(e)
	if err != nil {
		return err
	}
	var origins map[manifest.ObjectRef]manifest.Origin
	if loaded != nil {
		origins = loaded.Origins
	}
	var namespaces []string
	if ns := o.cluster.namespace; ns != "" && !o.allNamespaces {
		if _, ok := snap.NamespaceLabels()[ns]; !ok {
			return fmt.Errorf("namespace %q is not in the cluster", ns)
		}
		namespaces = []string{ns}
	}
	rep, err := audit.Run(snap, audit.Options{Namespaces: namespaces, IPBlockIgnoresPods: !o.cluster.ipBlockMatchesPods})
	if err != nil {
		return err
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(e.stderr, "netpol: note: %s\n", n)
	}
	if err := o.render(e.stdout, rep, locate(rep.Findings, origins), e.color); err != nil {
		return err
	}
	if n := rep.Count(o.failOn.s); o.failOn.s != audit.SeverityUnknown && n > 0 {
		return &exitError{code: ExitFindings, err: fmt.Errorf("%s of severity %s or above (--fail-on %s)",
			plural(int64(n), "finding", "findings"), o.failOn.s, o.failOn.s)}
	}
	return nil
}

func (o *auditOptions) render(w io.Writer, rep *audit.Report, locs []render.Location, color bool) error {
	a := &render.Audit{Findings: rep.Findings, Locations: locs, Notes: rep.Notes, Checks: audit.Checks(), Version: version()}
	switch o.output.value {
	case "json":
		return render.AuditJSON(w, a)
	case "sarif":
		return render.AuditSARIF(w, a)
	}
	return render.AuditTable(w, a, render.Options{Color: color})
}

// locate finds where each finding is in the files read: its object (at the
// line of its field), or for a Namespace that no file declares, the first
// NetworkPolicy, else the first object, of that namespace.
func locate(fs []audit.Finding, origins map[manifest.ObjectRef]manifest.Origin) []render.Location {
	if len(origins) == 0 {
		return nil
	}
	firstIn := map[string]manifest.Origin{}
	refs := slices.SortedFunc(func(yield func(manifest.ObjectRef) bool) {
		for r := range origins {
			if !yield(r) {
				return
			}
		}
	}, func(a, b manifest.ObjectRef) int {
		oa, ob := origins[a], origins[b]
		return cmp.Or(boolCmp(a.Kind != "NetworkPolicy", b.Kind != "NetworkPolicy"), cmp.Compare(oa.File, ob.File), cmp.Compare(oa.Line, ob.Line))
	})
	for _, r := range refs {
		if _, ok := firstIn[r.Namespace]; !ok && r.Namespace != "" {
			firstIn[r.Namespace] = origins[r]
		}
	}
	out := make([]render.Location, len(fs))
	for i, f := range fs {
		if org, ok := origins[manifest.ObjectRef{Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name}]; ok {
			out[i] = render.Location{File: org.File, Line: org.FieldLine(f.Field)}
		} else if org, ok := firstIn[f.Object.Name]; ok && f.Object.Kind == "Namespace" {
			out[i] = render.Location{File: org.File, Line: org.Line}
		}
	}
	return out
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// severityFlag is the value of --fail-on: a severity, or none
// (SeverityUnknown).
type severityFlag struct{ s audit.Severity }

// String returns the severity, or "none".
func (f *severityFlag) String() string {
	if f.s == audit.SeverityUnknown {
		return "none"
	}
	return f.s.String()
}

// Set parses a severity or "none".
func (f *severityFlag) Set(s string) error {
	if strings.EqualFold(s, "none") {
		f.s = audit.SeverityUnknown
		return nil
	}
	sev, err := audit.ParseSeverity(s)
	if err != nil {
		return fmt.Errorf("want %s or none", strings.Join(audit.Severities(), ", "))
	}
	f.s = sev
	return nil
}

// Type names the flag's value in help.
func (f *severityFlag) Type() string { return "severity" }

var _ pflag.Value = (*severityFlag)(nil)
