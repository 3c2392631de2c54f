// Command cyclonus is a NetworkPolicy oracle backed by the pure matcher of
// github.com/mattfenwick/cyclonus v0.5.6. It reads a scenario (see
// ../README.md) and prints the verdict of every tuple, or with -bench the rate.
//
// Known bugs of this oracle (cyclonus pkg/kube/labelselector.go): a NotIn
// requirement on a missing key does not match (apimachinery: it matches), and
// matchLabels {k: ""} matches objects without k (apimachinery: k must be
// present with an empty value).
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
	var simplify bool
	extra := func(fs *flag.FlagSet) {
		fs.BoolVar(&simplify, "simplify", false, "let cyclonus merge and simplify its matchers (an optimisation with known TODOs; off evaluates each rule as written)")
	}
	setup := func(c *scenario.Case) (scenario.Evaluator, error) { return newMatcher(c, simplify) }
	return scenario.Main("cyclonus", args, stdin, stdout, stderr, extra, setup)
}
