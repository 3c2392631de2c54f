package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/simulate"
)

// simulateOptions are the flags of `netpol simulate`.
type simulateOptions struct {
	cluster     clusterOptions
	connections string
	output      *output
}

func newSimulateCmd(e *env) *cobra.Command {
	o := &simulateOptions{}
	c := &cobra.Command{
		Use:   "simulate -f PATH... --connections FILE [-o table|json]",
		Short: "Give a verdict for each connection listed in a file, and check expectations",
		Long: `Give the verdict of each connection listed in a file, with the rule or the
isolation that decided it. The exit code is 1 when any connection's verdict
differs from the expectation listed with it, so a CI job can assert what
must and must not be reachable.

` + connectionsHelp + `

The table has the columns FROM, TO, PROBE, VERDICT, EXPECT (when any
connection has an expectation: "ok" or "FAIL: want ...") and REASON: the
rule that allowed the connection ("shop/allow-web ingress[0]"), "not
isolated", or the direction that denied it and the policies that isolate it
("ingress isolated: no rule of shop/default-deny, shop/allow-web").

The JSON is a stable object: {"results": [{"from", "to", "probe",
"allowed", "reason", "expect", "met", "source"}], "unmet": N}, in file
order; a Service destination adds "service", "backend" and "backendProbe".`,
		Example: e.example(`
  # Check what must and must not be reachable
  cat > connections.txt <<EOF
  # from                 to                   probe     expect
  frontend/web-0         shop/cart-0          TCP/8080  allowed
  frontend/web-0         payments/api-0       TCP/8443  denied
  shop/cart-0            10.96.0.10           UDP/53    allowed   # kube-dns
  EOF
  NETPOL simulate -f deploy/ --connections connections.txt

  # The same list as YAML, from standard input
  NETPOL simulate -f deploy/ --connections - -o json < connections.yaml`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(e) },
	}
	o.cluster.addFlags(c)
	c.Flags().StringVar(&o.connections, "connections", "", "read the connections from `FILE`, or - for standard input")
	_ = c.MarkFlagRequired("connections")
	_ = c.MarkFlagFilename("connections")
	o.output = newOutput(c, "table", "json")
	return c
}

func (o *simulateOptions) run(e *env) error {
	if o.connections == "-" && o.cluster.readsStdin() {
		return errors.New("-f - and --connections - cannot both read standard input")
	}
	conns, err := o.readConnections(e.stdin)
	if err != nil {
		return err
	}
	snap, _, err := o.cluster.load(e)
	if err != nil {
		return err
	}
	r := resolver{namespace: o.cluster.namespace}
	var names []string
	for i := range conns {
		conns[i].from, conns[i].to = r.complete(conns[i].from), r.complete(conns[i].to)
		names = append(names, conns[i].from, conns[i].to)
	}
	if r.eng, err = o.cluster.compile(e, snap, names...); err != nil {
		return err
	}
	verdicts, err := r.verdicts(conns)
	if err != nil {
		return err
	}
	if o.output.value == "json" {
		err = render.SimulateJSON(e.stdout, verdicts)
	} else {
		err = render.SimulateTable(e.stdout, verdicts, render.Options{Color: e.color})
	}
	if err != nil {
		return err
	}
	if n := render.Unmet(verdicts); n > 0 {
		return &exitError{code: ExitFindings, err: fmt.Errorf("%d of %d verdicts did not meet their expectation", n, len(verdicts))}
	}
	return nil
}

func (o *simulateOptions) readConnections(stdin io.Reader) ([]connection, error) {
	name := o.connections
	var data []byte
	var err error
	if name == "-" {
		name = manifest.StdinName
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("--connections: %w", err)
	}
	conns, err := parseConnections(name, data)
	if err == nil && len(conns) == 0 {
		err = fmt.Errorf("%s: no connections listed", name)
	}
	return conns, err
}

// verdicts simulates every connection; every unknown endpoint is reported,
// with its line.
func (r resolver) verdicts(conns []connection) ([]render.Verdict, error) {
	var out []render.Verdict
	var errs []error
	pols := r.eng.Policies()
	for _, c := range conns {
		src, err := r.source(c.from)
		dst, err2 := r.resolve(c.to)
		if err := errors.Join(err, err2); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.source, err))
			continue
		}
		v := render.Verdict{From: c.from, To: c.to, Probe: c.probe.String(), Expect: c.expect, Source: c.source}
		if dst.service == "" {
			x := r.eng.Explain(src, dst.id, c.probe)
			v.Allowed, v.Reason = x.Result.Verdict == simulate.Allowed, render.Reason(x, pols)
			out = append(out, v)
			continue
		}
		v.Service = dst.service
		targets, problem := r.serviceTargets(dst, c.probe)
		if problem != "" {
			v.Reason = "service " + dst.service + " " + problem
			out = append(out, v)
		}
		for _, t := range targets {
			x := r.eng.Explain(src, t.Endpoint, t.Probe)
			v.Backend, v.BackendProbe = r.eng.Endpoint(t.Endpoint).ID(), t.Probe.String()
			v.Allowed, v.Reason = x.Result.Verdict == simulate.Allowed, render.Reason(x, pols)
			out = append(out, v)
		}
	}
	return out, errors.Join(errs...)
}
