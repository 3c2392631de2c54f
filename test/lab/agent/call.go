package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// errCallFailed is returned by call when the call was made and failed (not
// a usage error): the agent then exits 1.
var errCallFailed = errors.New("call failed")

// call makes one call of the application: it resolves the target's name
// through --dns unless it is an address, connects over TCP, sends a request
// line and checks that it comes back. It prints one line saying what
// happened.
func call(args []string) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	dns := fs.String("dns", "", "DNS server ADDRESS:PORT to resolve names with (the cluster DNS Service)")
	timeout := fs.Duration("timeout", 2*time.Second, "how long each step may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("call needs one NAME:PORT or ADDRESS:PORT")
	}
	target := fs.Arg(0)
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return fmt.Errorf("bad target %q: %w", target, err)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		if *dns == "" {
			return fmt.Errorf("target %q is a name: give --dns", target)
		}
		if addr, err = resolve(*dns, host, *timeout); err != nil {
			fmt.Printf("FAIL %s: resolving: %v\n", target, err)
			return errCallFailed
		}
	}
	dst := net.JoinHostPort(addr.String(), port)
	if err := request(dst, target, *timeout); err != nil {
		fmt.Printf("FAIL %s (%s): %v\n", target, dst, err)
		return errCallFailed
	}
	fmt.Printf("OK %s (%s)\n", target, dst)
	return nil
}

// request connects to dst, sends one line naming target and waits for its
// echo.
func request(dst, target string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", dst, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	line := "GET " + target + "\n"
	if _, err := c.Write([]byte(line)); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if got != line {
		return fmt.Errorf("unexpected answer %q", strings.TrimSpace(got))
	}
	return nil
}
