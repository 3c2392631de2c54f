package demo

import (
	"embed"
	"io/fs"
)

//go:embed cluster
var files embed.FS

// Cluster returns the sample cluster's manifests: a directory of YAML files
// read like the files given with -f, in lexical order.
func Cluster() fs.FS {
	sub, err := fs.Sub(files, "cluster")
	if err != nil {
		// fs.Sub fails only on an invalid path, which "cluster" is not.
		return files
	}
	return sub
}

// External is the address outside the cluster that the demo adds as an
// endpoint: a client on the internet (a documentation address).
const External = "203.0.113.10"

// Probes returns the probes of the demo's matrix: DNS, the web and shop HTTP
// port, and the payments API.
func Probes() []string { return []string{"UDP/53", "TCP/8080", "TCP/8443"} }

// The connection the demo explains: the web frontend calling the payments
// API directly, which the policies deny (only the shop's cart may).
const (
	ExplainFrom  = "frontend/web-5d8f7c9b4-2xkqp"
	ExplainTo    = "payments/payments-api-6b7c9d-8hj2k"
	ExplainProbe = "TCP/8443"
)
