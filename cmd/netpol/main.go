// Command netpol simulates Kubernetes NetworkPolicies from manifest files.
package main

import (
	"os"

	"github.com/netpol/netpol/internal/cli"
)

func main() {
	os.Exit(cli.Main("netpol", os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
