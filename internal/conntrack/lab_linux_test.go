//go:build linux

package conntrack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// lab is a node network namespace holding a bridge, and pod namespaces
// plugged into it by veth pairs. Everything lives in namespaces the test
// creates; the host namespace, its sysctls and its firewall are untouched.
// Pods get 10.231.0.1N/24 and fd23:231::1N/64; the bridge is the pods'
// IPv4 gateway 10.231.0.1, so traffic to other IPv4 addresses (a Service
// VIP) is routed by the node.
type lab struct {
	t      *testing.T
	prefix string // np-ct-<random>
	node   string // the node namespace's name
	table  string // the unique nftables table name
}

// labGateway is the node's address on the bridge.
const labGateway = "10.231.0.1"

// newLab creates the node namespace with its bridge and a conntrack-using
// nftables rule, and registers the removal of everything in t.Cleanup.
func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test creates network namespaces, a bridge and nftables rules (CI runs it as root)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (apt-get install iproute2 nftables): %v", tool, err)
		}
	}
	r := make([]byte, 4)
	if _, err := rand.Read(r); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(r)
	l := &lab{t: t, prefix: "np-ct-" + id, table: "np_ct_" + id}
	l.node = l.addNS("node")
	l.run("ip", "-n", l.node, "link", "set", "lo", "up")
	l.run("ip", "-n", l.node, "link", "add", "br0", "type", "bridge")
	l.run("ip", "-n", l.node, "addr", "add", labGateway+"/24", "dev", "br0")
	l.run("ip", "-n", l.node, "link", "set", "br0", "up")
	// Per-namespace sysctls of the node only: bridged packets go through
	// netfilter (the default in a new namespace, set anyway), and the node
	// routes pod traffic to the VIP.
	l.sysctl(l.node, map[string]string{
		"net/bridge/bridge-nf-call-iptables":  "1",
		"net/bridge/bridge-nf-call-ip6tables": "1",
		"net/ipv4/ip_forward":                 "1",
	})
	return l
}

// addNS creates the namespace <prefix>-<suffix> and schedules its removal,
// which also removes its links, routes and nftables tables.
func (l *lab) addNS(suffix string) string {
	name := l.prefix + "-" + suffix
	l.run("ip", "netns", "add", name)
	l.t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			l.t.Errorf("removing network namespace %s: %v: %s", name, err, out)
		}
	})
	return name
}

// addPod creates a pod namespace with address 10.231.0.<n> and
// fd23:231::<n>, plugged into the bridge, and returns its name.
func (l *lab) addPod(suffix string, n int) string {
	pod := l.addNS(suffix)
	veth := "v" + suffix
	l.run("ip", "-n", l.node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod)
	l.run("ip", "-n", l.node, "link", "set", veth, "master", "br0", "up")
	l.run("ip", "-n", pod, "link", "set", "lo", "up")
	l.run("ip", "-n", pod, "addr", "add", fmt.Sprintf("10.231.0.%d/24", n), "dev", "eth0")
	l.run("ip", "-n", pod, "addr", "add", fmt.Sprintf("fd23:231::%d/64", n), "dev", "eth0", "nodad")
	l.run("ip", "-n", pod, "link", "set", "eth0", "up")
	l.run("ip", "-n", pod, "route", "add", "default", "via", labGateway)
	return pod
}

// nft loads an nftables script in the node namespace; tables named in it
// are deleted in t.Cleanup (the namespace's removal would also do it).
func (l *lab) nft(script string, tables ...string) {
	l.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", l.node, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("nft -f in %s: %v: %s\n%s", l.node, err, out, script)
	}
	for _, tb := range tables {
		l.t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "exec", l.node, "nft", "delete", "table", tb).CombinedOutput(); err != nil {
				l.t.Errorf("deleting nftables table %s: %v: %s", tb, err, out)
			}
		})
	}
}

// run runs a command and fails the test on error.
func (l *lab) run(name string, args ...string) string {
	l.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sysctl writes /proc/sys entries inside the namespace ns.
func (l *lab) sysctl(ns string, kv map[string]string) {
	l.t.Helper()
	err := inNS(ns, func() error {
		for k, v := range kv {
			if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.t.Fatalf("sysctl in %s: %v", ns, err)
	}
}

// inNS runs fn on an OS thread that has entered the named network
// namespace. The thread is never given back to the scheduler: it ends with
// its goroutine, so no other code runs in the namespace. Sockets fn opens
// stay in the namespace after it returns.
func inNS(name string, fn func() error) error {
	ns, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("opening network namespace %q: %w", name, err)
	}
	defer ns.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// listen opens a TCP listener in namespace ns that answers "ok" to each
// connection, and closes it in t.Cleanup.
func (l *lab) listen(ns, network, addr string) {
	l.t.Helper()
	var ln net.Listener
	if err := inNS(ns, func() (err error) { ln, err = net.Listen(network, addr); return err }); err != nil {
		l.t.Fatalf("listening on %s in %s: %v", addr, ns, err)
	}
	l.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ok"))
			c.Close()
		}
	}()
}

// listenUDP opens a UDP socket in namespace ns that echoes each datagram,
// and closes it in t.Cleanup.
func (l *lab) listenUDP(ns, addr string) {
	l.t.Helper()
	var pc net.PacketConn
	if err := inNS(ns, func() (err error) { pc, err = net.ListenPacket("udp", addr); return err }); err != nil {
		l.t.Fatalf("listening on udp %s in %s: %v", addr, ns, err)
	}
	l.t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
}

// dial opens a connection from namespace ns, sends a byte and, when
// wantReply, waits for the answer, then closes it.
func (l *lab) dial(ns, network, addr string, wantReply bool) {
	l.t.Helper()
	var c net.Conn
	if err := inNS(ns, func() (err error) { c, err = net.DialTimeout(network, addr, 2*time.Second); return err }); err != nil {
		l.t.Fatalf("dialing %s %s from %s: %v", network, addr, ns, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		l.t.Fatalf("writing to %s %s from %s: %v", network, addr, ns, err)
	}
	if !wantReply {
		return
	}
	if _, err := c.Read(make([]byte, 16)); err != nil {
		l.t.Fatalf("reading from %s %s in %s: %v", network, addr, ns, err)
	}
}

// ping sends one ICMP echo request from namespace ns to addr and waits for
// the reply.
func (l *lab) ping(ns, addr string) {
	l.t.Helper()
	var c net.PacketConn
	if err := inNS(ns, func() (err error) { c, err = net.ListenPacket("ip4:icmp", "0.0.0.0"); return err }); err != nil {
		l.t.Fatalf("opening an ICMP socket in %s: %v", ns, err)
	}
	defer c.Close()
	echo := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'n', 'p'} // type, code, checksum, id, seq, data
	var sum uint32
	for i := 0; i < len(echo); i += 2 {
		sum += uint32(echo[i])<<8 | uint32(echo[i+1])
	}
	sum = (sum >> 16) + (sum & 0xffff)
	cs := ^uint16(sum + sum>>16)
	echo[2], echo[3] = byte(cs>>8), byte(cs)
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.WriteTo(echo, &net.IPAddr{IP: net.ParseIP(addr)}); err != nil {
		l.t.Fatalf("ping %s from %s: %v", addr, ns, err)
	}
	buf := make([]byte, 128)
	for {
		n, _, err := c.ReadFrom(buf) // the IPv4 header is stripped
		if err != nil {
			l.t.Fatalf("ping %s from %s: %v", addr, ns, err)
		}
		if n >= 8 && buf[0] == 0 { // echo reply
			return
		}
	}
}
