// Command knp is a NetworkPolicy oracle backed by sigs.k8s.io/kube-network-policies
// v1.1.1, the SIG-network reference dataplane. It reads a scenario (see
// ../README.md) and prints the verdict of every tuple, or with -bench the rate.
//
// By default it drives knp the production way: a fake clientset, shared
// informers, the podinfo IP resolver and provider, and
// networkpolicy.PolicyEngine.EvaluatePacket. With -pure it calls
// networkpolicy.EvaluatePolicyDirection directly, selecting the policies of
// each subject itself, which is faster and must give the same verdicts.
package main

import (
	"flag"
	"io"
	"os"

	"github.com/netpol/netpol/test/oracles/scenario"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var pure bool
	extra := func(fs *flag.FlagSet) {
		fs.BoolVar(&pure, "pure", false, "call networkpolicy.EvaluatePolicyDirection instead of the informer-driven PolicyEngine")
	}
	setup := func(c *scenario.Case) (scenario.Evaluator, error) {
		cl, err := newCluster(c)
		if err != nil {
			return nil, err
		}
		if pure {
			return newPure(cl)
		}
		return newEngine(cl)
	}
	return scenario.Main("knp", args, stdin, stdout, stderr, extra, setup)
}
