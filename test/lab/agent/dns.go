package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// readRecords reads "name address" lines (IPv4 A records; # comments) into
// a zone keyed by the lower-case name with its final dot.
func readRecords(path string) (map[string]netip.Addr, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading DNS records: %w", err)
	}
	defer f.Close()
	zone := map[string]netip.Addr{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"name address\", got %q", path, n, sc.Text())
		}
		a, err := netip.ParseAddr(fields[1])
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("%s:%d: bad IPv4 address %q", path, n, fields[1])
		}
		zone[fqdn(fields[0])] = a
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return zone, nil
}

// fqdn lower-cases name and ends it with a dot.
func fqdn(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// answerDNS answers query from zone: an A record when the name is known,
// no answer (NOERROR) for other types of a known name, NXDOMAIN otherwise.
// ok is false when query is not a DNS query (the caller echoes it).
func answerDNS(query []byte, zone map[string]netip.Addr) (answer []byte, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	addr, known := zone[strings.ToLower(q.Name.String())]
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, false
	}
	if err := b.Question(q); err != nil {
		return nil, false
	}
	if err := b.StartAnswers(); err != nil {
		return nil, false
	}
	if known && q.Type == dnsmessage.TypeA && q.Class == dnsmessage.ClassINET {
		rr := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 30}
		if err := b.AResource(rr, dnsmessage.AResource{A: addr.As4()}); err != nil {
			return nil, false
		}
	}
	out, err := b.Finish()
	return out, err == nil
}

// resolve asks server (ADDRESS:PORT) over UDP for the A record of name.
func resolve(server, name string, timeout time.Duration) (netip.Addr, error) {
	qname, err := dnsmessage.NewName(fqdn(name))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad name %q: %w", name, err)
	}
	id := uint16(time.Now().UnixNano())
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return netip.Addr{}, err
	}
	if err := b.Question(dnsmessage.Question{Name: qname, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}); err != nil {
		return netip.Addr{}, err
	}
	query, err := b.Finish()
	if err != nil {
		return netip.Addr{}, err
	}
	c, err := net.Dial("udp", server)
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return netip.Addr{}, err
	}
	if _, err := c.Write(query); err != nil {
		return netip.Addr{}, err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("asking %s for %s: %w", server, name, err)
	}
	var p dnsmessage.Parser
	h, err := p.Start(buf[:n])
	if err != nil {
		return netip.Addr{}, fmt.Errorf("the answer of %s for %s: %w", server, name, err)
	}
	if h.ID != id || !h.Response {
		return netip.Addr{}, fmt.Errorf("the answer of %s for %s is not a response to the query", server, name)
	}
	if h.RCode != dnsmessage.RCodeSuccess {
		return netip.Addr{}, fmt.Errorf("%s answered %v for %s", server, h.RCode, name)
	}
	if err := p.SkipAllQuestions(); err != nil {
		return netip.Addr{}, err
	}
	for {
		rh, err := p.AnswerHeader()
		if errors.Is(err, dnsmessage.ErrSectionDone) {
			return netip.Addr{}, fmt.Errorf("%s gave no A record for %s", server, name)
		}
		if err != nil {
			return netip.Addr{}, err
		}
		if rh.Type != dnsmessage.TypeA {
			if err := p.SkipAnswer(); err != nil {
				return netip.Addr{}, err
			}
			continue
		}
		a, err := p.AResource()
		if err != nil {
			return netip.Addr{}, err
		}
		return netip.AddrFrom4(a.A), nil
	}
}
