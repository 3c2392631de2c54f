package simulate

import (
	"fmt"
	"net/netip"
)

// sloppyCIDR is a CIDR as the API server reads ipBlock.cidr and
// ipBlock.except: with k8s.io/utils/net.ParseCIDRSloppy, Go's pre-1.17
// net.ParseCIDR. Compared with netip.ParsePrefix it also accepts leading
// zeros (read as decimal: "010.0.0.0/8" is 10.0.0.0/8), IPv6 groups of more
// than four hex digits ("::00001/128"), a prefix length with leading zeros,
// and host bits (ignored: "10.0.0.1/24" is 10.0.0.0/24).
type sloppyCIDR struct {
	addr    netip.Addr // the address as written (IPv4-mapped IPv6 stays IPv6)
	network netip.Addr // addr masked to bits
	bits    int        // the prefix length as written (up to 32 or 128)
}

// ParseIPBlockCIDR parses an ipBlock cidr or except value exactly as the API
// server of Kubernetes v1.35 accepts it, and returns the prefix that it
// matches (Go's net.IPNet semantics, which the API server and most
// implementations use): host bits are cleared, leading zeros are decimal, and
// an IPv4-mapped IPv6 prefix of length 96 or more ("::ffff:10.0.0.0/104") is
// the IPv4 prefix it maps (10.0.0.0/8). It fails on exactly the values that
// the API server rejects as "must be a valid CIDR value".
func ParseIPBlockCIDR(s string) (netip.Prefix, error) {
	c, ok := parseSloppyCIDR(s)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	return c.prefix(), nil
}

// prefix returns the prefix that net.IPNet.Contains applies for c.
func (c sloppyCIDR) prefix() netip.Prefix {
	if c.network.Is4In6() { // only possible when bits >= 96
		return netip.PrefixFrom(c.network.Unmap(), c.bits-96)
	}
	return netip.PrefixFrom(c.network, c.bits)
}

// strictlyContains reports whether inner is a strict subset of c as the API
// server checks it: c contains inner's network address and c's written
// prefix length is shorter than inner's.
func (c sloppyCIDR) strictlyContains(inner sloppyCIDR) bool {
	return c.prefix().Contains(inner.network.Unmap()) && c.bits < inner.bits
}

// parseSloppyCIDR parses s as ParseCIDRSloppy does: an IPv4 address, else an
// IPv6 one, then "/" and a decimal prefix length.
func parseSloppyCIDR(s string) (sloppyCIDR, bool) {
	slash := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			slash = i
			break
		}
	}
	if slash < 0 {
		return sloppyCIDR{}, false
	}
	addr, ok := parseSloppyIPv4(s[:slash])
	if !ok {
		if addr, ok = parseSloppyIPv6(s[:slash]); !ok {
			return sloppyCIDR{}, false
		}
	}
	mask := s[slash+1:]
	n, used, ok := decimalPrefix(mask)
	if !ok || used != len(mask) || n > addr.BitLen() {
		return sloppyCIDR{}, false
	}
	network := netip.PrefixFrom(addr, n).Masked().Addr()
	return sloppyCIDR{addr: addr, network: network, bits: n}, true
}

// sloppyBig is the overflow bound of the forked parser's number readers.
const sloppyBig = 0xFFFFFF

// decimalPrefix reads the leading decimal digits of s: their value, how many
// were read, and false when there are none or the value reaches sloppyBig.
func decimalPrefix(s string) (n, used int, ok bool) {
	for used < len(s) && '0' <= s[used] && s[used] <= '9' {
		n = n*10 + int(s[used]-'0')
		if n >= sloppyBig {
			return sloppyBig, used, false
		}
		used++
	}
	return n, used, used > 0
}

// hexPrefix reads the leading hex digits of s like decimalPrefix.
func hexPrefix(s string) (n, used int, ok bool) {
	for ; used < len(s); used++ {
		c := s[used]
		var d int
		switch {
		case '0' <= c && c <= '9':
			d = int(c - '0')
		case 'a' <= c && c <= 'f':
			d = int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = int(c-'A') + 10
		default:
			return n, used, used > 0
		}
		n = n*16 + d
		if n >= sloppyBig {
			return 0, used, false
		}
	}
	return n, used, used > 0
}

// parseSloppyIPv4 parses four dot-separated decimal octets, each possibly
// with leading zeros.
func parseSloppyIPv4(s string) (netip.Addr, bool) {
	var b [4]byte
	for i := range b {
		if i > 0 {
			if s == "" || s[0] != '.' {
				return netip.Addr{}, false
			}
			s = s[1:]
		}
		n, used, ok := decimalPrefix(s)
		if !ok || n > 0xFF {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
		s = s[used:]
	}
	if s != "" {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// parseSloppyIPv6 parses an IPv6 address with at most one "::" and an
// optional trailing sloppy IPv4 address; zones are not allowed.
func parseSloppyIPv6(s string) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis, s = 0, s[2:]
		if s == "" {
			return netip.AddrFrom16(ip), true
		}
	}
	i := 0
	for i < 16 {
		n, used, ok := hexPrefix(s)
		if !ok || n > 0xFFFF {
			return netip.Addr{}, false
		}
		if used < len(s) && s[used] == '.' { // a trailing IPv4 address
			if (ellipsis < 0 && i != 12) || i+4 > 16 {
				return netip.Addr{}, false
			}
			v4, ok := parseSloppyIPv4(s)
			if !ok {
				return netip.Addr{}, false
			}
			b := v4.As4()
			copy(ip[i:], b[:])
			s, i = "", i+4
			break
		}
		ip[i], ip[i+1] = byte(n>>8), byte(n)
		i += 2
		if s = s[used:]; s == "" {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		if s = s[1:]; s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis, s = i, s[1:]
			if s == "" {
				break
			}
		}
	}
	if s != "" {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		copy(ip[ellipsis+n:], ip[ellipsis:i])
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(ip), true
}

// cidrWarnings returns what the API server warns about a CIDR that it
// accepts (GetWarningsForCIDR): host bits set, a non-standard form (leading
// zeros, IPv4-mapped IPv6), or a non-canonical IPv6 spelling. field is the
// field path; an unparsable value gets no warning (it is an error).
func cidrWarnings(field, value string) []string {
	c, ok := parseSloppyCIDR(value)
	if !ok {
		return nil
	}
	var out []string
	p := c.prefix()
	if c.addr != c.network {
		single := netip.PrefixFrom(c.addr.Unmap(), c.addr.Unmap().BitLen())
		out = append(out, fmt.Sprintf("%s: CIDR %q has host bits set: it means %q (did you mean %q?)", field, value, p, single))
	}
	strict, err := netip.ParsePrefix(value)
	if err != nil || strict.Addr().Is4In6() {
		out = append(out, fmt.Sprintf("%s: non-standard CIDR %q: use %q", field, value, p))
	}
	if len(out) == 0 && strict.Addr().Is6() && strict.String() != value {
		out = append(out, fmt.Sprintf("%s: IPv6 CIDR %q is not in RFC 5952 canonical form %q", field, value, strict))
	}
	return out
}
