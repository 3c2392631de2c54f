package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/render"
)

// explainOptions are the flags of `netpol explain`.
type explainOptions struct {
	cluster  clusterOptions
	from, to string
	probe    string
	output   *output
}

func newExplainCmd(e *env) *cobra.Command {
	o := &explainOptions{}
	c := &cobra.Command{
		Use:   "explain -f PATH... --from SRC --to DST --probe PROTO/PORT [-o text|json]",
		Short: "Explain why one connection is allowed or denied",
		Long: `Explain the verdict of one connection: for the source's egress and the
destination's ingress, the policies that select it, and for each of their
rules the peers and ports that matched or why none did.

--from and --to name a pod ("ns/name"), a workload without pods
("ns/deployment/name"), or an IP address. A pod's address stands for the
pod; any other address is an external endpoint. A name without a namespace
is in -n's namespace ("default" without -n). When --to is a Service
ClusterIP, the connection is explained on each of the Service's backends
with the port translated (targetPort), as the policies see it after DNAT.

The exit code is 0 whatever the verdict; use simulate for checks. The JSON
is a stable object with from, to, probe, allowed, ipBlockMatchesPods and
the egress and ingress traces; for a Service it has service and a backends
list of such objects instead of the traces, and allowed is true only when
every backend allows the connection.`,
		Example: e.example(`
  # Why can't the web frontend call the payments API?
  NETPOL explain -f deploy/ --from frontend/web-0 --to payments/api-0 --probe TCP/8443

  # From an address on the internet to a workload that has no pods yet
  NETPOL explain -f deploy/ --from 203.0.113.10 --to shop/deployment/catalog --probe 8080

  # Through a Service ClusterIP, as JSON
  NETPOL explain -f deploy/ --from shop/cart-0 --to 10.96.0.10 --probe UDP/53 -o json`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return o.run(e) },
	}
	o.cluster.addFlags(c)
	c.Flags().StringVar(&o.from, "from", "", "the source `SRC`: a pod (ns/name), a workload without pods (ns/kind/name) or an IP address")
	c.Flags().StringVar(&o.to, "to", "", "the destination `DST`: a pod, a workload without pods, a Service ClusterIP or an IP address")
	c.Flags().StringVar(&o.probe, "probe", "", "the probe `PROTO/PORT`, such as TCP/80 (a bare port is TCP)")
	o.output = newOutput(c, "text", "json")
	for _, f := range []string{"from", "to", "probe"} {
		_ = c.MarkFlagRequired(f)
	}
	_ = c.RegisterFlagCompletionFunc("from", o.cluster.completeEndpoints)
	_ = c.RegisterFlagCompletionFunc("to", o.cluster.completeEndpoints)
	_ = c.RegisterFlagCompletionFunc("probe", o.cluster.completeProbes)
	return c
}

func (o *explainOptions) run(e *env) error {
	p, err := netpol.ParseProbe(o.probe)
	if err != nil {
		return fmt.Errorf("--probe: %w", err)
	}
	snap, _, err := o.cluster.load(e)
	if err != nil {
		return err
	}
	r := resolver{namespace: o.cluster.namespace}
	from, to := r.complete(o.from), r.complete(o.to)
	if r.eng, err = o.cluster.compile(e, snap, from, to); err != nil {
		return err
	}
	src, err := r.source(from)
	dst, err2 := r.resolve(to)
	if err := errors.Join(flagErr("--from", err), flagErr("--to", err2)); err != nil {
		return err
	}
	opts := render.Options{Color: e.color}
	if dst.service != "" {
		se := r.explainService(src, dst, p)
		if o.output.value == "json" {
			return render.ServiceExplanationJSON(e.stdout, se)
		}
		return render.ServiceExplanationText(e.stdout, se, opts)
	}
	x := r.eng.Explain(src, dst.id, p)
	if o.output.value == "json" {
		return render.ExplanationJSON(e.stdout, x)
	}
	return render.ExplanationText(e.stdout, x, opts)
}

// flagErr prefixes err with the flag it concerns; nil stays nil.
func flagErr(flag string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", flag, err)
}
