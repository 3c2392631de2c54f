// Command agent is what runs inside each lab pod's network namespace: small
// TCP and UDP servers, a DNS server for the cluster DNS pods, the client
// that makes the application's calls, and the probes.
//
//	agent serve --addr 10.250.7.11 --tcp 80,81 --udp 53 [--dns-records FILE]
//	agent probe --proto tcp|udp --timeout 2s 10.250.7.21:80
//	agent probes --timeout 2s --parallel 64 < targets   ("tcp 10.0.0.1 80" lines)
//	agent call --dns 10.96.0.10:53 --timeout 2s catalog.shop.svc.cluster.local:80
//
// serve accepts TCP connections and closes them after echoing one line, and
// echoes every UDP datagram; with --dns-records, a UDP datagram that is a
// DNS query is answered from the records instead. probe makes one new
// connection (TCP: a completed handshake; UDP: a datagram and its echo) and
// prints OK, BLOCKED (no answer before the timeout: the first packet was
// dropped) or ERROR (anything else, such as a refusal, which is not what a
// NetworkPolicy does); probes does the same for many targets at once. call
// resolves a name through a DNS server (an A query over UDP), connects to
// the address over TCP, sends one request line and checks its echo: one
// call of the application. probe and probes exit 0 whatever the outcome;
// call exits 1 when the call fails; all exit 2 on a usage error.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: agent serve|probe|probes|call [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "probe":
		err = probe(os.Args[2:])
	case "probes":
		err = probes(os.Args[2:])
	case "call":
		err = call(os.Args[2:])
		if errors.Is(err, errCallFailed) {
			os.Exit(1)
		}
	default:
		err = fmt.Errorf("unknown command %q (want serve, probe, probes or call)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(2)
	}
}

// serve listens on every port given and runs until SIGINT or SIGTERM.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "address to listen on (empty: all)")
	tcp := fs.String("tcp", "", "comma-separated TCP ports")
	udp := fs.String("udp", "", "comma-separated UDP ports")
	records := fs.String("dns-records", "", "answer DNS A queries on the UDP ports from FILE (\"name address\" lines)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var zone map[string]netip.Addr
	if *records != "" {
		var err error
		if zone, err = readRecords(*records); err != nil {
			return err
		}
	}
	tcpPorts, err := ports(*tcp)
	if err != nil {
		return err
	}
	udpPorts, err := ports(*udp)
	if err != nil {
		return err
	}
	for _, p := range tcpPorts {
		l, err := net.Listen("tcp", net.JoinHostPort(*addr, p))
		if err != nil {
			return fmt.Errorf("listening on TCP %s: %w", p, err)
		}
		go acceptLoop(l)
	}
	for _, p := range udpPorts {
		c, err := net.ListenPacket("udp", net.JoinHostPort(*addr, p))
		if err != nil {
			return fmt.Errorf("listening on UDP %s: %w", p, err)
		}
		go echoLoop(c, zone)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

// ports parses "80,81" into its ports, checking each.
func ports(list string) ([]string, error) {
	var out []string
	for p := range strings.SplitSeq(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
		out = append(out, p)
	}
	return out, nil
}

func acceptLoop(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err == nil || errors.Is(err, io.EOF) {
				_, _ = io.WriteString(c, line)
			}
		}()
	}
}

// echoLoop echoes every datagram, except DNS queries when zone is not nil:
// those get an answer from zone.
func echoLoop(c net.PacketConn, zone map[string]netip.Addr) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		out := buf[:n]
		if zone != nil {
			if answer, ok := answerDNS(buf[:n], zone); ok {
				out = answer
			}
		}
		_, _ = c.WriteTo(out, from)
	}
}

// probe prints the outcome of one new connection to the address given.
func probe(args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	proto := fs.String("proto", "tcp", "tcp or udp")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for an answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("probe needs one ADDR:PORT")
	}
	if *proto != "tcp" && *proto != "udp" {
		return fmt.Errorf("unknown protocol %q (want tcp or udp)", *proto)
	}
	fmt.Println(outcome(*proto, fs.Arg(0), *timeout))
	return nil
}

// outcome makes one new connection and says OK, BLOCKED or ERROR ....
func outcome(proto, addr string, timeout time.Duration) string {
	var err error
	if proto == "udp" {
		err = probeUDP(addr, timeout)
	} else {
		err = probeTCP(addr, timeout)
	}
	var ne net.Error
	switch {
	case err == nil:
		return "OK"
	case errors.As(err, &ne) && ne.Timeout():
		return "BLOCKED"
	default:
		return "ERROR " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
}

// probeTCP succeeds once the handshake completes: the SYN, the packet the
// enforcer judges, went through.
func probeTCP(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	return c.Close()
}

// probeUDP sends one datagram and waits for its echo.
func probeUDP(addr string, timeout time.Duration) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	msg := []byte("netpol-lab\n")
	if _, err := c.Write(msg); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != string(msg) {
		return fmt.Errorf("unexpected reply %q", buf[:n])
	}
	return nil
}
