// Command kubectl-netpol is netpol as a kubectl plugin: `kubectl netpol`.
package main

import (
	"os"

	"github.com/netpol/netpol/internal/cli"
)

func main() {
	os.Exit(cli.Main("kubectl netpol", os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
