package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/simulate"
)

// matrixOptions are the flags of `netpol matrix`.
type matrixOptions struct {
	cluster       clusterOptions
	probes        []string
	allNamespaces bool
	output        *output
}

func newMatrixCmd(e *env) *cobra.Command {
	o := &matrixOptions{}
	c := &cobra.Command{
		Use:   "matrix -f PATH... [--probe PROTO/PORT]... [--external IP]... [-n NS | -A] [-o table|json]",
		Short: "Print which endpoints can connect to which, for each probe",
		Long: `Print the connectivity between every ordered pair of endpoints for each probe:
pods, workloads without pods (template endpoints, "ns/deployment/name"), and
each --external address.

With -n, only the endpoints of that namespace are shown (externals always
are); without -n, or with -A, every namespace is. Without --probe, the probes
are every distinct numeric container port of the endpoints shown, sorted by
protocol (TCP, UDP, SCTP) and port.

The table has one block per probe (probes with the same verdicts share
one): a numbered row per source and a column per destination with the same
number (digits read top to bottom). "." is
allowed, "X" denied, "-" an endpoint to itself; the cell between two
externals is blank.

The JSON is a stable contract:
  {"probes":["TCP/80"],
   "results":[{"from":"x/a","to":"y/b","probe":"TCP/80","allowed":true}]}
with every ordered pair of distinct endpoints except external to external,
sorted by from and to (byte order of the IDs) and then probe order.`,
		Example: e.example(`
  # Every pod and workload of a directory of manifests, on their own ports
  NETPOL matrix -f deploy/

  # One namespace, two probes, and a client on the internet
  NETPOL matrix -f deploy/ -n shop --probe TCP/8080 --probe UDP/53 --external 203.0.113.10

  # As JSON for a script: the denied connections
  NETPOL matrix -f deploy/ -o json | jq '.results[] | select(.allowed == false)'`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(e) },
	}
	o.cluster.addFlags(c)
	c.Flags().StringSliceVar(&o.probes, "probe", nil, "probe `PROTO/PORT`, such as TCP/80 or UDP/53 (repeatable, or comma-separated)")
	c.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "show the endpoints of every namespace (the default without -n)")
	o.output = newOutput(c, "table", "json")
	_ = c.RegisterFlagCompletionFunc("probe", o.cluster.completeProbes)
	return c
}

func (o *matrixOptions) run(e *env) error {
	if o.allNamespaces && o.cluster.namespace != "" {
		return errors.New("-n and -A cannot be used together")
	}
	probes, err := parseProbes(o.probes)
	if err != nil {
		return err
	}
	snap, _, err := o.cluster.load(e)
	if err != nil {
		return err
	}
	eng, err := o.cluster.compile(e, snap)
	if err != nil {
		return err
	}
	ids, eps, err := o.endpoints(eng)
	if err != nil {
		return err
	}
	if len(probes) == 0 {
		if probes = containerProbes(eps); len(probes) == 0 {
			return fmt.Errorf("no probes: the endpoints declare no container ports; give --probe PROTOCOL/PORT")
		}
	}
	m := eng.Matrix(ids, probes)
	rm := render.Matrix{Endpoints: eps, Probes: probes, Allowed: m.Allowed}
	if o.output.value == "json" {
		return render.MatrixJSON(e.stdout, rm)
	}
	return render.MatrixTable(e.stdout, rm, render.Options{Color: e.color})
}

// endpoints returns the endpoints to show: those of -n's namespace, or all,
// and the externals.
func (o *matrixOptions) endpoints(eng *simulate.Engine) ([]simulate.EndpointID, []netpol.Endpoint, error) {
	ns := o.cluster.namespace
	if o.allNamespaces {
		ns = ""
	}
	var ids []simulate.EndpointID
	var eps []netpol.Endpoint
	seen := map[string]bool{}
	for i, ep := range eng.Endpoints() {
		seen[ep.Namespace] = true
		if ns == "" || ep.Namespace == ns || ep.Kind == netpol.EndpointExternal {
			ids = append(ids, simulate.EndpointID(i))
			eps = append(eps, ep)
		}
	}
	if ns != "" && !seen[ns] {
		var have []string
		for n := range seen {
			if n != "" {
				have = append(have, n)
			}
		}
		slices.Sort(have)
		return nil, nil, fmt.Errorf("namespace %q has no pods or workloads (namespaces with some: %s)", ns, strings.Join(have, ", "))
	}
	return ids, eps, nil
}

// parseProbes parses and deduplicates the --probe values, keeping their
// order.
func parseProbes(raw []string) ([]netpol.Probe, error) {
	var out []netpol.Probe
	for _, s := range raw {
		p, err := netpol.ParseProbe(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("--probe: %w", err)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}
