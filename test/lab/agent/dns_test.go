package main

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// TestResolve asks a server on loopback that answers from a zone, as the
// lab's CoreDNS pods do, and checks known, unknown and malformed names.
func TestResolve(t *testing.T) {
	records := filepath.Join(t.TempDir(), "records")
	if err := os.WriteFile(records, []byte("# the shop\ncatalog.shop.svc.cluster.local 10.96.30.2\nAPI.Example. 203.0.113.50\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	zone, err := readRecords(records)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go echoLoop(c, zone)
	server := c.LocalAddr().String()

	for _, tc := range []struct {
		name, want, err string
	}{
		{name: "catalog.shop.svc.cluster.local", want: "10.96.30.2"},
		{name: "Catalog.Shop.svc.cluster.local.", want: "10.96.30.2"},
		{name: "api.example", want: "203.0.113.50"},
		{name: "redis.shop.svc.cluster.local", err: "RCodeNameError"},
	} {
		got, err := resolve(server, tc.name, 2*time.Second)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("resolve(%q): got %v, %v; want an error with %q", tc.name, got, err, tc.err)
			}
		case err != nil || got != netip.MustParseAddr(tc.want):
			t.Errorf("resolve(%q): got %v, %v; want %s", tc.name, got, err, tc.want)
		}
	}

	// A datagram that is not a DNS query is echoed, so probes work on the
	// DNS pods' port too.
	if got := outcome("udp", server, 2*time.Second); got != "OK" {
		t.Errorf("probe of the DNS server: got %s, want OK", got)
	}
}

// TestReadRecordsErrors names the file and line of a bad record.
func TestReadRecordsErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"a.example 10.0.0.1 extra\n", `:1: want "name address"`},
		{"\na.example 10.0.0.300\n", `:2: bad IPv4 address "10.0.0.300"`},
		{"a.example fd00::1\n", `:1: bad IPv4 address "fd00::1"`},
	} {
		path := filepath.Join(t.TempDir(), "records")
		if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readRecords(path); err == nil || !strings.Contains(err.Error(), path+tc.want) {
			t.Errorf("readRecords(%q): got %v, want an error with %q", tc.text, err, path+tc.want)
		}
	}
}

// FuzzAnswerDNS feeds arbitrary datagrams to the DNS server: it must never
// panic, and whatever it answers must be a well-formed DNS response.
func FuzzAnswerDNS(f *testing.F) {
	zone := map[string]netip.Addr{"a.example.": netip.MustParseAddr("10.0.0.1")}
	for _, name := range []string{"a.example.", "b.example."} {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, RecursionDesired: true})
		_ = b.StartQuestions()
		_ = b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
		q, err := b.Finish()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(q)
	}
	f.Add([]byte("netpol-lab\n"))
	f.Fuzz(func(t *testing.T, query []byte) {
		answer, ok := answerDNS(query, zone)
		if !ok {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(answer)
		if err != nil || !h.Response {
			t.Fatalf("answer to %x is not a DNS response: %v", query, err)
		}
	})
}
