package hubble

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/netpol/netpol"
)

// testPKI is a CA made for one test, with a server and a client
// certificate, written as PEM files.
type testPKI struct {
	caFile, certFile, keyFile string // the CA, and the client's pair
	server                    tls.Certificate
	pool                      *x509.CertPool
}

const relayName = "relay.hubble.test"

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "netpol test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{pool: x509.NewCertPool(), caFile: filepath.Join(dir, "ca.pem")}
	p.pool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, dns ...string) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "netpol test"}, DNSNames: dns,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	serverDER, serverKey := issue(2, x509.ExtKeyUsageServerAuth, relayName)
	p.server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
	clientDER, clientKey := issue(3, x509.ExtKeyUsageClientAuth)
	p.certFile, p.keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, p.certFile, "CERTIFICATE", clientDER)
	keyDER, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serverCreds requires and verifies client certificates, as Relay does
// with mutual TLS.
func (p *testPKI) serverCreds() grpc.ServerOption {
	return grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{p.server}, ClientCAs: p.pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	}))
}

func TestRelayTLS(t *testing.T) {
	pki := newTestPKI(t)
	recs := replayFlows(t)
	want := expectedFlows(t, recs)
	addr := startServer(t, &replayServer{flows: recs}, pki.serverCreds())
	tlsOpts := &TLSOptions{CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile, ServerName: relayName}
	got, err := collect(t, NewRelaySource(addr, RelayOptions{TLS: tlsOpts}), len(want))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
}

func TestRelayTLSErrors(t *testing.T) {
	pki := newTestPKI(t)
	addr := startServer(t, &replayServer{flows: replayFlows(t)}, pki.serverCreds())
	for _, tc := range []struct {
		name string
		tls  TLSOptions
		want string
	}{
		{"wrong server name", TLSOptions{CAFile: pki.caFile, CertFile: pki.certFile, KeyFile: pki.keyFile, ServerName: "other.hubble.test"},
			`TLS handshake failed: .*certificate is valid for relay.hubble.test, not other.hubble.test`},
		{"unknown CA", TLSOptions{CertFile: pki.certFile, KeyFile: pki.keyFile, ServerName: relayName},
			`TLS handshake failed: .*certificate signed by unknown authority`},
		{"no client certificate", TLSOptions{CAFile: pki.caFile, ServerName: relayName}, `giving up after 2 attempts`},
		{"key without certificate", TLSOptions{CAFile: pki.caFile, KeyFile: pki.keyFile}, `set both or neither`},
		{"missing CA file", TLSOptions{CAFile: filepath.Join(t.TempDir(), "nope.pem")}, `reading TLS CA: open .*nope.pem`},
		{"CA file without PEM", TLSOptions{CAFile: pki.keyFile}, `no PEM certificate`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := fastRetry(RelayOptions{TLS: &tc.tls, MaxRetries: 1})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := NewRelaySource(addr, opts).Run(ctx, func(*netpol.Flow) error { return nil })
			if err == nil || !matches(tc.want, err.Error()) {
				t.Errorf("Run = %v, want an error matching %q", err, tc.want)
			}
		})
	}
}

// matches reports whether s matches the pattern, where ".*" stands for
// anything (enough for error messages).
func matches(pattern, s string) bool {
	for _, part := range strings.Split(pattern, ".*") {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return true
}
