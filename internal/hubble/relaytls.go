package hubble

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSOptions configures TLS to Hubble Relay. The zero value verifies the
// server against the system roots under the name of the address.
type TLSOptions struct {
	// CAFile is a PEM file of the certificate authorities to trust
	// instead of the system roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key, for
	// mutual TLS; both or neither.
	CertFile, KeyFile string
	// ServerName is the name expected in the server's certificate
	// (Relay's is usually "*.hubble-relay.cilium.io"), when it differs
	// from the host of the address.
	ServerName string
}

// config loads the files into a tls.Config.
func (o *TLSOptions) config() (*tls.Config, error) {
	cfg := &tls.Config{ServerName: o.ServerName, MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("reading TLS CA: no PEM certificate in %q", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("TLS client certificate and key go together: set both or neither")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
