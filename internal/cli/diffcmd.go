package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol/diff"
	"github.com/netpol/netpol/internal/render"
)

// exitBreakage is the exit code of diff --fail-on=breakage when observed
// traffic would break.
const exitBreakage = 3

// diffOptions are the flags of `netpol diff`.
type diffOptions struct {
	statePath          string
	hubbleFiles        []string
	namespace          string
	allNamespaces      bool
	output             *output
	failOn             string
	ipBlockMatchesPods bool
	verbose            bool
}

func newDiffCmd(e *env) *cobra.Command {
	o := &diffOptions{}
	c := &cobra.Command{
		Use:   "diff BASE HEAD [--state FILE | --hubble-file PATH...] [-n NS | -A] [-o text|markdown|json] [--fail-on=breakage]",
		Short: "Show what a change to the manifests does to connectivity and to observed traffic",
		Long: `Compare the connectivity of two versions of the manifests, as a pull request
changes them: which connections HEAD allows that BASE denied (gained), which
it denies that BASE allowed (lost), and which namespaces, workloads and pods
appear or disappear. Each change says why, with the rule that now decides it.

BASE and HEAD are each a YAML or JSON file, a directory of them, - for
standard input, or git:REV:PATH: the file or directory PATH (relative to the
root of the repository) of the revision REV, read from the objects of the
repository of the current directory without a checkout, such as
git:origin/main:deploy/.

Connectivity is compared at workload level: pods count as their Deployment,
StatefulSet, DaemonSet, CronJob or Job (through their owners, or their names),
workloads without pods as the pods they would create, and address ranges of
the policies' ipBlocks (and the rest of the world) as externals. The ports
compared are the container ports of both sides, the numeric ports of both
sides' policies, and the ports of observed traffic. A state is "partial"
when some pods of a workload may connect and others may not.

With observed traffic (a state file written by learn, or Hubble captures
resolved against BASE), every observed connection that HEAD denies and BASE
allowed is a breakage, and every gained connection that no observed traffic
uses is an opening. Observed workloads are matched by kind, namespace and
name; reserved identities (host, world without an address) are not
evaluated.

With -n, only the changes with an end in that namespace are shown (objects
that give no namespace are read into it too); without -n, or with -A, every
namespace is.

The JSON is a stable contract:
  {"gained":[{"from":"shop/web","fromKind":"Deployment","to":"pay/api",
              "toKind":"Deployment","protocol":"TCP","port":8443,
              "before":"denied","after":"allowed",
              "reasons":["ingress allowed by pay/allow-shop ingress[0]"],
              "observed":{"forwarded":12,"dropped":0,"lastSeen":"..."}}],
   "lost":[...],"breakages":[...],"openings":[...],
   "appeared":{"namespaces":[],"workloads":[{"name":"ops/tool","kind":"Deployment"}],"pods":[]},
   "disappeared":{...},"probes":["TCP/8443"],"observedTraffic":true,"unevaluated":0}
with one item per port; "observed" is present when traffic was observed on
it. The markdown is a pull-request comment: a one-line verdict, then tables
(folded past 10 rows), cut to fit GitHub's 65,536 characters.

Exit codes, like git diff --exit-code: 0 no change, 1 changes, 2 a usage or
input error. With --fail-on=breakage: 3 when observed traffic would break,
else 0.`,
		Example: e.example(`
  # What does this branch change, compared with main?
  NETPOL diff git:origin/main:deploy/ deploy/

  # In CI: a pull-request comment, failing when traffic seen in staging breaks
  NETPOL diff git:origin/main:deploy/ deploy/ --state staging.state --fail-on=breakage -o markdown > comment.md

  # Two directories, one namespace, as JSON: the lost connections
  NETPOL diff old/ new/ -n shop -o json | jq '.lost[] | "\(.from) -> \(.to) \(.protocol)/\(.port)"'`),
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error { return o.run(c.Context(), e, args[0], args[1]) },
	}
	fs := c.Flags()
	fs.StringVar(&o.statePath, "state", "", "observed traffic: a state `FILE` written by learn or merge")
	fs.StringArrayVar(&o.hubbleFiles, "hubble-file", nil, "observed traffic: a Hubble capture (`PATH`, hubble observe -o json; .gz accepted; - for standard input), repeatable")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "show only the changes with an end in namespace `NS`; objects that give no namespace are read into it (default \"default\")")
	fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "show the changes of every namespace (the default without -n)")
	fs.StringVar(&o.failOn, "fail-on", "", "`breakage`: exit 3 when observed traffic would break, else 0 (needs --state or --hubble-file)")
	fs.BoolVar(&o.ipBlockMatchesPods, "ipblock-matches-pods", true,
		"let ipBlock peers match pod addresses (upstream conformance); false for Cilium-like dataplanes")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "print what was read and compared to stderr")
	o.output = newOutput(c, "text", "markdown", "json")
	_ = c.MarkFlagFilename("state")
	_ = c.MarkFlagFilename("hubble-file", "json", "jsonl", "gz")
	_ = c.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"breakage"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (o *diffOptions) run(ctx context.Context, e *env, baseArg, headArg string) error {
	if err := o.validate(baseArg, headArg); err != nil {
		return err
	}
	base, head, err := o.loadSides(ctx, e, baseArg, headArg)
	if err != nil {
		return err
	}
	if err := checkNamespace(o.namespace, base.NamespaceLabels(), head.NamespaceLabels()); err != nil {
		return err
	}
	observed, err := o.observed(ctx, e, base)
	if err != nil {
		return err
	}
	r, err := diff.Compare(base, head, diff.Options{IPBlockIgnoresPods: !o.ipBlockMatchesPods, Observed: observed, Namespace: o.namespace})
	if err != nil {
		return err
	}
	d := render.Diff{Report: r, Base: baseArg, Head: headArg}
	if err := o.render(e, d); err != nil {
		return err
	}
	return o.exit(d)
}

func (o *diffOptions) validate(baseArg, headArg string) error {
	stdin := 0
	for _, p := range append([]string{baseArg, headArg}, o.hubbleFiles...) {
		if p == "-" {
			stdin++
		}
	}
	switch {
	case o.allNamespaces && o.namespace != "":
		return errors.New("-n and -A cannot be used together")
	case o.statePath != "" && len(o.hubbleFiles) > 0:
		return errors.New("--state and --hubble-file cannot be used together: merge the captures into a state file with learn")
	case o.failOn != "" && o.failOn != "breakage":
		return fmt.Errorf("--fail-on %q: want breakage", o.failOn)
	case o.failOn != "" && o.statePath == "" && len(o.hubbleFiles) == 0:
		return errors.New("--fail-on=breakage needs observed traffic: give --state FILE or --hubble-file PATH")
	case stdin > 1:
		return errors.New("standard input (-) can be read only once")
	}
	return nil
}

// checkNamespace fails when ns is in neither side.
func checkNamespace(ns string, sides ...map[string]map[string]string) error {
	if ns == "" {
		return nil
	}
	set := map[string]bool{}
	for _, s := range sides {
		if _, ok := s[ns]; ok {
			return nil
		}
		for n := range s {
			set[n] = true
		}
	}
	have := make([]string, 0, len(set))
	for n := range set {
		have = append(have, n)
	}
	slices.Sort(have)
	return fmt.Errorf("namespace %q is in neither BASE nor HEAD (namespaces: %s)", ns, strings.Join(have, ", "))
}

func (o *diffOptions) render(e *env, d render.Diff) error {
	switch o.output.value {
	case "json":
		return render.DiffJSON(e.stdout, d)
	case "markdown":
		return render.DiffMarkdown(e.stdout, d, 0)
	}
	return render.DiffText(e.stdout, d, render.Options{Color: e.color})
}

// exit returns the exit status: with --fail-on=breakage, exitBreakage when
// observed traffic would break; otherwise ExitFindings when anything
// changed.
func (o *diffOptions) exit(d render.Diff) error {
	r := d.Report
	if o.failOn == "breakage" {
		if n := len(r.Breakages); n > 0 {
			return &exitError{code: exitBreakage, err: fmt.Errorf("%d observed connection(s) would break", n)}
		}
		return nil
	}
	if r.Changed() {
		return &exitError{code: ExitFindings, err: errors.New("connectivity changed: " + d.Verdict())}
	}
	return nil
}
