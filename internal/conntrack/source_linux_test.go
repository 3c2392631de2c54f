//go:build linux

package conntrack

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/netpol/netpol"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// connKey is what a learned edge keeps of a flow.
type connKey struct {
	src, dst netip.Addr
	proto    netpol.Protocol
	port     uint16
}

// String renders k as "10.231.0.11 -> 10.231.0.12 TCP/8080".
func (k connKey) String() string {
	return fmt.Sprintf("%s -> %s %s", k.src, k.dst, netpol.Probe{Protocol: k.proto, Port: k.port})
}

// conn parses "SRC -> DST PROTO/PORT".
func conn(s string) connKey {
	f := strings.Fields(s)
	p, err := netpol.ParseProbe(f[3])
	if err != nil {
		panic(err)
	}
	return connKey{netip.MustParseAddr(f[0]), netip.MustParseAddr(f[2]), p.Protocol, p.Port}
}

// flowLog records emitted flows; the source's goroutine writes it.
type flowLog struct {
	mu    sync.Mutex
	flows []netpol.Flow
}

// emit keeps a copy of f.
func (l *flowLog) emit(f *netpol.Flow) error {
	l.mu.Lock()
	l.flows = append(l.flows, *f)
	l.mu.Unlock()
	return nil
}

// keys returns the keys of the flows so far, sorted, with repeats.
func (l *flowLog) keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, f := range l.flows {
		out = append(out, connKey{f.Source.IP, f.Destination.IP, f.Protocol, f.Destination.Port}.String())
	}
	slices.Sort(out)
	return out
}

// waitFor waits until every wanted key has been emitted.
func (l *flowLog) waitFor(t *testing.T, want []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := l.keys()
		missing := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return slices.Contains(got, k) })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, flows %v are missing; got %v", within, missing, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sortedKeys renders and sorts keys.
func sortedKeys(ks ...connKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.String())
	}
	slices.Sort(out)
	return out
}

// TestLiveBridgedConnections runs real TCP and UDP traffic between pod
// namespaces on a bridge in a node namespace, with an nftables rule that
// makes the node track bridged packets and a DNAT rule for a Service VIP,
// and checks that the source learns exactly those connections, once each.
func TestLiveBridgedConnections(t *testing.T) {
	begin := time.Now()
	l := newLab(t)
	a, b, c := l.addPod("a", 11), l.addPod("b", 12), l.addPod("c", 13)
	l.nft(fmt.Sprintf(`table inet %[1]s {
	chain track { type filter hook forward priority 0; policy accept; ct state new counter; }
}
table ip %[1]s_vip {
	chain pre { type nat hook prerouting priority -100; policy accept; ip daddr 10.231.1.10 tcp dport 80 dnat to 10.231.0.12:8080; }
}
`, l.table), "inet "+l.table, "ip "+l.table+"_vip")
	l.listen(b, "tcp4", "10.231.0.12:8080")
	l.listen(b, "tcp6", "[fd23:231::12]:8443")
	l.listen(c, "tcp4", "10.231.0.13:9090")
	l.listenUDP(c, "10.231.0.13:5353")
	setup := time.Since(begin)

	const interval = 100 * time.Millisecond
	log := &flowLog{}
	src := NewSource(Options{Interval: interval, NetNS: l.node, Node: "node-1"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, log.emit) }()

	phase1 := sortedKeys(
		conn("10.231.0.11 -> 10.231.0.12 TCP/8080"),
		conn("10.231.0.11 -> 10.231.0.13 UDP/5353"),
		conn("10.231.0.12 -> 10.231.0.13 TCP/9090"),
	)
	l.dial(a, "tcp4", "10.231.0.12:8080", true)
	l.dial(a, "udp4", "10.231.0.13:5353", true)
	l.dial(b, "tcp4", "10.231.0.13:9090", true)
	log.waitFor(t, phase1, 5*time.Second)

	// While the source keeps dumping a table that still holds phase 1.
	all := append(slices.Clone(phase1), sortedKeys(
		conn("10.231.0.11 -> 10.231.0.12 TCP/8080"), // via the VIP 10.231.1.10:80
		conn("fd23:231::13 -> fd23:231::12 TCP/8443"),
		conn("10.231.0.13 -> 10.231.0.11 UDP/7070"), // nobody listens: unreplied
	)...)
	slices.Sort(all)
	l.dial(a, "tcp4", "10.231.1.10:80", true)
	l.dial(c, "tcp6", "[fd23:231::12]:8443", true)
	l.dial(c, "udp4", "10.231.0.11:7070", false)
	l.ping(a, "10.231.0.12")
	log.waitFor(t, all, 5*time.Second)
	time.Sleep(3 * interval) // more dumps of the same connections
	learned := time.Since(begin)

	t.Run("netlink library agrees", func(t *testing.T) { compareWithNetlink(t, l.node) })
	t.Run("conntrack -L file twin", func(t *testing.T) {
		if _, err := exec.LookPath("conntrack"); err != nil {
			t.Skip("conntrack (apt package conntrack) is not installed")
		}
		compareFileTwin(t, all, l.run("ip", "netns", "exec", l.node, "conntrack", "-L", "-o", "extended,id"))
	})
	t.Run("proc file twin", func(t *testing.T) {
		compareFileTwin(t, all, l.run("ip", "netns", "exec", l.node, "cat", "/proc/net/nf_conntrack"))
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(all, log.keys()); diff != "" {
		t.Errorf("learned connections (-want +got):\n%s", diff)
	}
	for _, f := range log.flows {
		if f.Verdict != netpol.Forwarded || f.Reply != netpol.No || f.Node != "node-1" || f.Source.Port == 0 ||
			f.Time.Before(begin) || f.Time.After(time.Now()) {
			t.Errorf("flow %+v: want verdict forwarded, reply no, node node-1, a source port, a time during the test", f)
		}
	}
	st := src.Stats()
	if st.Flows != int64(len(all)) || st.Rejected != 0 || st.Skipped["icmp"] < 1 || st.Skipped["dump-error"] != 0 {
		t.Errorf("stats = %+v, want %d flows, none rejected, the ping skipped as icmp, no dump error", st, len(all))
	}
	t.Logf("lab setup %v, traffic learned after %v, total %v", setup.Round(time.Millisecond), learned.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
}

// compareWithNetlink checks that our decoder and
// netlink.ConntrackTableList read the same TCP and UDP tuples from the
// node's table.
func compareWithNetlink(t *testing.T, node string) {
	ns, err := netns.GetFromName(node)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_NETFILTER)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	sock, err := openSocket(node)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	for _, fam := range []Family{IPv4, IPv6} {
		af := map[Family]netlink.InetFamily{IPv4: unix.AF_INET, IPv6: unix.AF_INET6}[fam]
		theirs, err := h.ConntrackTableList(netlink.ConntrackTable, af)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range theirs {
			if f.Forward.Protocol == protoTCP || f.Forward.Protocol == protoUDP {
				want = append(want, fmt.Sprintf("%d %s:%d>%s:%d %s:%d>%s:%d", f.Forward.Protocol,
					f.Forward.SrcIP, f.Forward.SrcPort, f.Forward.DstIP, f.Forward.DstPort,
					f.Reverse.SrcIP, f.Reverse.SrcPort, f.Reverse.DstIP, f.Reverse.DstPort))
			}
		}
		var stats counter
		ours, err := dumpFamily(sock, fam, &stats)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ours {
			if e.proto == protoTCP || e.proto == protoUDP {
				got = append(got, fmt.Sprintf("%d %s:%d>%s:%d %s:%d>%s:%d", e.proto,
					e.orig.src.Addr(), e.orig.src.Port(), e.orig.dst.Addr(), e.orig.dst.Port(),
					e.reply.src.Addr(), e.reply.src.Port(), e.reply.dst.Addr(), e.reply.dst.Port()))
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if len(want) == 0 {
			t.Errorf("%s: the table holds no TCP or UDP connection", fam)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s tuples (-netlink +ours):\n%s", fam, diff)
		}
		if st := stats.snapshot(); st.Rejected != 0 {
			t.Errorf("%s: rejected messages: %v", fam, st.Problems)
		}
	}
}

// compareFileTwin checks that the file source learns exactly want from a
// text dump of the same table.
func compareFileTwin(t *testing.T, want []string, dump string) {
	log := &flowLog{}
	src := NewFileSource(FileOptions{Paths: []string{"-"}, Stdin: bytes.NewReader([]byte(dump)), Strict: true})
	if err := src.Run(context.Background(), log.emit); err != nil {
		t.Fatalf("%v\n%s", err, dump)
	}
	if diff := cmp.Diff(want, log.keys()); diff != "" {
		t.Errorf("connections (-want +got):\n%s\ndump:\n%s", diff, dump)
	}
}

func TestLiveSourceBadNamespace(t *testing.T) {
	src := NewSource(Options{NetNS: "np-ct-no-such-namespace"})
	err := src.Run(context.Background(), func(*netpol.Flow) error { return nil })
	want := `opening network namespace "np-ct-no-such-namespace"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}
