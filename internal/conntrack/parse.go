package conntrack

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// startLayout is how conntrack prints a [start=...] stamp (ctime, with the
// day's padding removed by splitting on spaces).
const startLayout = "Mon Jan 2 15:04:05 2006"

// summaryPrefix starts the count line that conntrack -L prints on stderr,
// often captured with the table.
const summaryPrefix = "conntrack v"

// lineKind says what parseLine found on a line that is not an error.
type lineKind uint8

// The kinds of a well-formed line.
const (
	lineFlow    lineKind = iota // a TCP, UDP or SCTP connection
	lineBlank                   // empty or a # comment
	lineSummary                 // conntrack's "N flow entries have been shown"
	lineOther                   // another protocol; skip names it
)

// parseLine parses one line of a dump, in the format of the package
// documentation. loc is the zone of [start=...] stamps.
func parseLine(line string, loc *time.Location) (e entry, kind lineKind, skip string, err error) {
	f := strings.Fields(line)
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return e, lineBlank, "", nil
	}
	if strings.HasPrefix(line, summaryPrefix) {
		return e, lineSummary, "", nil
	}
	l3, f, err := parseHeader(f, &e)
	if err != nil {
		return e, 0, "", err
	}
	if _, skip := e.protocol(); skip != "" {
		return e, lineOther, skip, nil
	}
	if want := protoName(e.proto); f[0] != want {
		return e, 0, "", fmt.Errorf("protocol %q does not match number %d (%s)", f[0], e.proto, want)
	}
	if _, err := strconv.ParseUint(f[2], 10, 32); err != nil {
		return e, 0, "", fmt.Errorf("timeout %q is not a number of seconds", f[2])
	}
	f = f[3:]
	if len(f) > 0 && !strings.ContainsRune(f[0], '=') && !strings.HasPrefix(f[0], "[") {
		f = f[1:] // the state: ESTABLISHED, TIME_WAIT...
	}
	if err := parseTokens(f, &e, loc); err != nil {
		return e, 0, "", err
	}
	if err := checkFamily(&e, l3); err != nil {
		return e, 0, "", err
	}
	return e, lineFlow, "", nil
}

// parseHeader reads the optional layer-3 name and number and the protocol
// number, and returns the layer-3 family named (4, 6, or 0 for none) and
// the fields from the protocol name on.
func parseHeader(f []string, e *entry) (l3 int, rest []string, err error) {
	var want string // the layer-3 number
	switch f[0] {
	case "ipv4":
		l3, want = 4, "2"
	case "ipv6":
		l3, want = 6, "10"
	}
	if l3 != 0 {
		if len(f) < 2 || f[1] != want {
			return 0, nil, fmt.Errorf("%s must be followed by %s", f[0], want)
		}
		f = f[2:]
	}
	if len(f) < 3 {
		return 0, nil, errors.New("want a protocol name, its number and a timeout")
	}
	n, err := strconv.ParseUint(f[1], 10, 8)
	if err != nil {
		return 0, nil, fmt.Errorf("protocol number %q: want 0 to 255", f[1])
	}
	e.proto = uint8(n)
	return l3, f, nil
}

// tupleKeys are the four keys of a tuple, in the order of tupleParts.seen.
var tupleKeys = [4]string{"src", "dst", "sport", "dport"}

// tupleKey returns the index of k in tupleKeys, or -1.
func tupleKey(k string) int {
	switch k {
	case "src":
		return 0
	case "dst":
		return 1
	case "sport":
		return 2
	case "dport":
		return 3
	}
	return -1
}

// tupleParts collects the four tuple keys of both directions.
type tupleParts struct {
	addrs [2][2]netip.Addr // [direction][src, dst]
	ports [2][2]uint16
	seen  [len(tupleKeys)]uint8 // occurrences so far, by tupleKey
}

// parseTokens reads the key=value and [bracketed] tokens after the state.
func parseTokens(f []string, e *entry, loc *time.Location) error {
	var tp tupleParts
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if strings.HasPrefix(tok, "[") {
			j := i
			for !strings.HasSuffix(f[j], "]") {
				if j++; j == len(f) {
					return fmt.Errorf("unclosed %q", tok)
				}
			}
			if err := parseBracket(strings.Join(f[i:j+1], " "), e, loc); err != nil {
				return err
			}
			i = j
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return fmt.Errorf("unexpected %q (want key=value)", tok)
		}
		if err := tp.set(k, v, e); err != nil {
			return err
		}
	}
	for d, dir := range [2]string{"original", "reply"} {
		for i, k := range tupleKeys {
			if int(tp.seen[i]) <= d {
				return fmt.Errorf("%s tuple has no %s=", dir, k)
			}
		}
	}
	e.orig = tuple{netip.AddrPortFrom(tp.addrs[0][0], tp.ports[0][0]), netip.AddrPortFrom(tp.addrs[0][1], tp.ports[0][1])}
	e.reply = tuple{netip.AddrPortFrom(tp.addrs[1][0], tp.ports[1][0]), netip.AddrPortFrom(tp.addrs[1][1], tp.ports[1][1])}
	return nil
}

// set records one key=value token.
func (tp *tupleParts) set(k, v string, e *entry) error {
	if i := tupleKey(k); i >= 0 {
		return tp.setTuple(i, v)
	}
	switch k {
	case "zone":
		z, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return fmt.Errorf("zone=%q is not a zone number", v)
		}
		e.zone = uint16(z)
	case "id":
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("id=%q is not a conntrack ID", v)
		}
		e.id = uint32(id)
	}
	return nil
}

// setTuple records the value v of tuple key tupleKeys[i]: the first one is
// of the original tuple, the second of the reply tuple.
func (tp *tupleParts) setTuple(i int, v string) error {
	k, d := tupleKeys[i], tp.seen[i]
	if d > 1 {
		return fmt.Errorf("third %s= (a line has two tuples)", k)
	}
	tp.seen[i]++
	side := i & 1 // src and sport 0, dst and dport 1
	if i < 2 {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("%s=%q is not an IP address", k, v)
		}
		tp.addrs[d][side] = a
		return nil
	}
	p, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return fmt.Errorf("%s=%q is not a port", k, v)
	}
	tp.ports[d][side] = uint16(p)
	return nil
}

// parseBracket reads a bracketed token: a flag ([ASSURED]) or a stamp
// ([start=Thu Nov 26 10:26:01 2026]).
func parseBracket(s string, e *entry, loc *time.Location) error {
	k, v, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), "=")
	if !ok || k != "start" {
		return nil
	}
	t, err := time.ParseInLocation(startLayout, v, loc)
	if err != nil {
		return fmt.Errorf("start=%q is not a time like %q", v, startLayout)
	}
	e.start = t
	return nil
}

// checkFamily checks that the addresses of e are of one family, and of the
// layer-3 family the line names (0: none named).
func checkFamily(e *entry, l3 int) error {
	want := e.orig.src.Addr().Is4()
	for _, a := range [...]netip.AddrPort{e.orig.dst, e.reply.src, e.reply.dst} {
		if a.Addr().Is4() != want {
			return fmt.Errorf("tuples mix IPv4 and IPv6 addresses")
		}
	}
	if l3 != 0 && (l3 == 4) != want {
		return fmt.Errorf("ipv%d line holds %s addresses", l3, map[bool]string{true: "IPv4", false: "IPv6"}[want])
	}
	return nil
}
