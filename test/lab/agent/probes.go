package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// probes reads targets from standard input, one "PROTO ADDRESS PORT" line
// each (proto tcp or udp), probes them in parallel and prints one
// "PROTO ADDRESS PORT RESULT" line per target, in the input's order.
func probes(args []string) error {
	fs := flag.NewFlagSet("probes", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for an answer")
	parallel := fs.Int("parallel", 64, "probes in flight at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *parallel < 1 {
		return errors.New("probes takes no arguments (targets on standard input) and --parallel of at least 1")
	}
	type target struct{ proto, addr, line string }
	var targets []target
	sc := bufio.NewScanner(os.Stdin)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || (f[0] != "tcp" && f[0] != "udp") || net.ParseIP(f[1]) == nil {
			return fmt.Errorf("standard input:%d: want \"tcp|udp ADDRESS PORT\", got %q", n, sc.Text())
		}
		if p, err := strconv.Atoi(f[2]); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("standard input:%d: bad port %q", n, f[2])
		}
		targets = append(targets, target{f[0], net.JoinHostPort(f[1], f[2]), strings.Join(f, " ")})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading targets: %w", err)
	}
	results := make([]string, len(targets))
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = outcome(t.proto, t.addr, *timeout)
		})
	}
	wg.Wait()
	w := bufio.NewWriter(os.Stdout)
	for i, t := range targets {
		fmt.Fprintf(w, "%s %s\n", t.line, results[i])
	}
	return w.Flush()
}
