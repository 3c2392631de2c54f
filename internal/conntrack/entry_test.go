package conntrack

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/netpol/netpol"
)

// addrOpts compares addresses by value.
var addrOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
	cmp.AllowUnexported(entry{}, tuple{}),
}

// ap parses "ip:port" or "[ip6]:port".
func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// ep is the flow endpoint of "ip:port".
func ep(s string) netpol.FlowEndpoint {
	a := ap(s)
	return netpol.FlowEndpoint{IP: a.Addr(), Port: a.Port()}
}

func TestEntryToFlow(t *testing.T) {
	dumped := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	started := time.Date(2026, 11, 26, 9, 59, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    entry
		want netpol.Flow
		skip string
	}{
		{name: "direct tcp", e: entry{proto: protoTCP, orig: tuple{ap("10.0.0.1:40000"), ap("10.0.0.2:80")}, reply: tuple{ap("10.0.0.2:80"), ap("10.0.0.1:40000")}},
			want: netpol.Flow{Time: dumped, Source: ep("10.0.0.1:40000"), Destination: ep("10.0.0.2:80"), Protocol: netpol.ProtocolTCP}},
		{name: "service vip dnat", e: entry{proto: protoTCP, orig: tuple{ap("10.0.0.1:40000"), ap("10.96.0.10:80")}, reply: tuple{ap("10.0.1.5:8080"), ap("10.0.0.1:40000")}},
			want: netpol.Flow{Time: dumped, Source: ep("10.0.0.1:40000"), Destination: ep("10.0.1.5:8080"), Protocol: netpol.ProtocolTCP}},
		{name: "port-only dnat", e: entry{proto: protoUDP, orig: tuple{ap("10.0.0.1:5000"), ap("10.0.0.9:53")}, reply: tuple{ap("10.0.0.9:5353"), ap("10.0.0.1:5000")}},
			want: netpol.Flow{Time: dumped, Source: ep("10.0.0.1:5000"), Destination: ep("10.0.0.9:5353"), Protocol: netpol.ProtocolUDP}},
		{name: "snat only keeps destination", e: entry{proto: protoUDP, orig: tuple{ap("10.0.0.1:5000"), ap("1.1.1.1:53")}, reply: tuple{ap("1.1.1.1:53"), ap("192.168.1.4:61000")}},
			want: netpol.Flow{Time: dumped, Source: ep("10.0.0.1:5000"), Destination: ep("1.1.1.1:53"), Protocol: netpol.ProtocolUDP}},
		{name: "nodeport dnat and snat", e: entry{proto: protoTCP, orig: tuple{ap("203.0.113.7:50000"), ap("192.168.1.4:30080")}, reply: tuple{ap("10.0.1.5:8080"), ap("192.168.1.4:50000")}},
			want: netpol.Flow{Time: dumped, Source: ep("203.0.113.7:50000"), Destination: ep("10.0.1.5:8080"), Protocol: netpol.ProtocolTCP}},
		{name: "sctp v6 with start", e: entry{proto: protoSCTP, start: started, orig: tuple{ap("[fd00::1]:4000"), ap("[fd00::2]:3868")}, reply: tuple{ap("[fd00::2]:3868"), ap("[fd00::1]:4000")}},
			want: netpol.Flow{Time: started, Source: ep("[fd00::1]:4000"), Destination: ep("[fd00::2]:3868"), Protocol: netpol.ProtocolSCTP}},
		{name: "mapped addresses are unmapped", e: entry{proto: protoTCP, orig: tuple{ap("[::ffff:10.0.0.1]:1"), ap("[::ffff:10.0.0.2]:2")}, reply: tuple{ap("[::ffff:10.0.0.2]:2"), ap("[::ffff:10.0.0.1]:1")}},
			want: netpol.Flow{Time: dumped, Source: ep("10.0.0.1:1"), Destination: ep("10.0.0.2:2"), Protocol: netpol.ProtocolTCP}},
		{name: "icmp skipped", e: entry{proto: protoICMP}, skip: "icmp"},
		{name: "icmpv6 skipped", e: entry{proto: protoICMPv6}, skip: "icmpv6"},
		{name: "gre skipped", e: entry{proto: protoGRE}, skip: "gre"},
		{name: "unnamed protocol skipped", e: entry{proto: 41}, skip: "proto-41"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, skip := tc.e.protocol()
			if skip != tc.skip {
				t.Fatalf("skip = %q, want %q", skip, tc.skip)
			}
			if skip != "" {
				return
			}
			var got netpol.Flow
			tc.e.toFlow(&got, p, dumped, "node-1")
			want := tc.want
			want.Verdict, want.Reply, want.Node = netpol.Forwarded, netpol.No, "node-1"
			if diff := cmp.Diff(want, got, addrOpts); diff != "" {
				t.Errorf("flow (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTracker(t *testing.T) {
	a := entry{proto: protoTCP, orig: tuple{ap("10.0.0.1:1"), ap("10.0.0.2:80")}}
	b := entry{proto: protoUDP, orig: tuple{ap("10.0.0.1:2"), ap("10.0.0.2:53")}}
	aReused := a
	aReused.id = 7 // same tuple, another connection
	// Each step is one dump; want lists which entries observe calls new.
	steps := []struct {
		dump []entry
		want []bool
	}{
		{dump: []entry{a, b}, want: []bool{true, true}},
		{dump: []entry{a, b, a}, want: []bool{false, false, false}},
		{dump: []entry{b}, want: []bool{false}},          // a is gone, forgotten
		{dump: []entry{a, b}, want: []bool{true, false}}, // a again: a new connection
		{dump: []entry{aReused}, want: []bool{true}},
	}
	tr := newTracker()
	for i, st := range steps {
		var got []bool
		for _, e := range st.dump {
			got = append(got, tr.observe(e.key()))
		}
		tr.sweep()
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("dump %d (-want +got):\n%s", i, diff)
		}
		if n := len(tr.seen); n > len(st.dump) {
			t.Errorf("dump %d: tracker holds %d keys, more than the dump's %d", i, n, len(st.dump))
		}
	}
}

func TestFamilyString(t *testing.T) {
	got := []string{IPv4.String(), IPv6.String(), Family(0).String()}
	if diff := cmp.Diff([]string{"ipv4", "ipv6", "family(0)"}, got); diff != "" {
		t.Error(diff)
	}
}
