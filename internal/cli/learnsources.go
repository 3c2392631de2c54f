package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/conntrack"
	"github.com/netpol/netpol/internal/hubble"
)

// sources builds the flow sources the flags ask for.
func (o *learnOptions) sources(e *env) ([]netpol.FlowSource, error) {
	var out []netpol.FlowSource
	if len(o.hubbleFiles) > 0 {
		out = append(out, hubble.NewFileSource(o.hubbleFiles, hubble.FileOptions{Strict: o.strict, Stdin: e.stdin}))
	}
	if len(o.hubbleAddrs) > 0 {
		ro := hubble.RelayOptions{Namespaces: o.namespaces, TLS: o.tls.options()}
		for _, v := range o.verdicts {
			verdict, ok := verdictNames[strings.ToLower(v)]
			if !ok {
				return nil, fmt.Errorf("--verdict %q: want forwarded, dropped, audit or redirected", v)
			}
			ro.Verdicts = append(ro.Verdicts, verdict)
		}
		if o.verbose {
			ro.Logger = slog.New(slog.NewTextHandler(e.stderr, nil))
		}
		for _, addr := range o.hubbleAddrs {
			out = append(out, hubble.NewRelaySource(addr, ro))
		}
	}
	if len(o.conntrackFiles) > 0 {
		out = append(out, conntrack.NewFileSource(conntrack.FileOptions{Paths: o.conntrackFiles, Stdin: e.stdin, Strict: o.strict, Node: o.node}))
	}
	if o.conntrack {
		out = append(out, conntrack.NewSource(conntrack.Options{Interval: o.interval, NetNS: o.netns, Node: o.node}))
	}
	return out, nil
}

var verdictNames = map[string]netpol.FlowVerdict{
	"forwarded": netpol.Forwarded, "dropped": netpol.Dropped, "audit": netpol.Audit, "redirected": netpol.Redirected,
}

// tlsOptions are the --hubble-tls flags.
type tlsOptions struct {
	enabled                   bool
	ca, cert, key, serverName string
}

func (o *tlsOptions) addFlags(c *cobra.Command) {
	fs := c.Flags()
	fs.BoolVar(&o.enabled, "hubble-tls", false, "connect to --hubble with TLS (implied by the other --hubble-tls flags)")
	fs.StringVar(&o.ca, "hubble-tls-ca", "", "PEM `FILE` of the certificate authorities to trust instead of the system's")
	fs.StringVar(&o.cert, "hubble-tls-cert", "", "PEM client certificate `FILE`, for mutual TLS (with --hubble-tls-key)")
	fs.StringVar(&o.key, "hubble-tls-key", "", "PEM client key `FILE`, for mutual TLS (with --hubble-tls-cert)")
	fs.StringVar(&o.serverName, "hubble-tls-server-name", "", "`NAME` expected in the server certificate (Relay's is usually *.hubble-relay.cilium.io)")
}

// set reports whether any TLS flag is given.
func (o *tlsOptions) set() bool {
	return o.enabled || o.ca != "" || o.cert != "" || o.key != "" || o.serverName != ""
}

// options returns the TLS options of the relay source; nil is plaintext.
func (o *tlsOptions) options() *hubble.TLSOptions {
	if !o.set() {
		return nil
	}
	return &hubble.TLSOptions{CAFile: o.ca, CertFile: o.cert, KeyFile: o.key, ServerName: o.serverName}
}
