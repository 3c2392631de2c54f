package simulate

import (
	"net/netip"
	"testing"
)

func TestLastAddr(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"10.0.0.0/8", "10.255.255.255"},
		{"10.1.2.3/32", "10.1.2.3"},
		{"0.0.0.0/0", "255.255.255.255"},
		{"10.1.2.3/23", "10.1.3.255"},
		{"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"fd00::1/128", "fd00::1"},
	} {
		if got := LastAddr(netip.MustParsePrefix(tc.prefix)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("LastAddr(%s) = %s, want %s", tc.prefix, got, tc.want)
		}
	}
}
