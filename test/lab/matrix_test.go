package lab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// connection is one ordered pair of endpoints on one probe.
type connection struct {
	from, to string // endpoint ids
	probe    probe
}

func (c connection) String() string { return fmt.Sprintf("%s -> %s %v", c.from, c.to, c.probe) }

// matrix is what every connection did: true allowed, false dropped.
type matrix map[connection]bool

// probeParallel bounds the probes in flight per source. The enforcer's
// queue holds 4,096 packets and its socket buffer 8 MiB, so the demo's
// whole matrix (13 sources x at most 96 probes) fits at once; an overflow
// would show as an enforcer error and void the measurement.
const probeParallel = 128

// measure probes every ordered pair of distinct endpoints (but for two
// outside the cluster) on every probe,
// with real connections: one `agent probes` per source network namespace,
// all sources at once. A result other than OK or BLOCKED fails the test.
//
// A measurement during which the enforcer logged an error (a packet it
// lost, which the kernel then dropped) is void: the test fails saying so
// rather than report a false drop.
func measure(t *testing.T, agent string, netns map[string]string, log string, s *story) matrix {
	t.Helper()
	before := enforcerErrors(t, log)
	byAddr := map[string]string{}
	for _, e := range s.endpoints {
		byAddr[e.addr.String()] = e.id
	}
	m := matrix{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, src := range s.endpoints {
		var in strings.Builder
		for _, dst := range s.endpoints {
			if dst.id == src.id {
				continue // a pod reaches itself through lo, which no policy sees
			}
			if src.pod == nil && dst.pod == nil {
				continue // outside to outside: no NetworkPolicy's business, nor netpol matrix's
			}
			for _, p := range s.probes {
				fmt.Fprintf(&in, "%s %s %d\n", strings.ToLower(p.proto), dst.addr, p.port)
			}
		}
		wg.Go(func() {
			cmd := exec.Command("ip", "netns", "exec", netns[src.id], agent, "probes", "--timeout", "2s", "--parallel", strconv.Itoa(probeParallel))
			cmd.Stdin = strings.NewReader(in.String())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("probing from %s: %v\n%s", src.id, err, stderr.String())
				return
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			mu.Lock()
			defer mu.Unlock()
			for sc.Scan() {
				f := strings.SplitN(sc.Text(), " ", 4)
				port, _ := strconv.Atoi(f[2])
				c := connection{src.id, byAddr[f[1]], probe{strings.ToUpper(f[0]), port}}
				switch f[3] {
				case "OK":
					m[c] = true
				case "BLOCKED":
					m[c] = false
				default:
					t.Errorf("%v: %s (neither allowed nor dropped)", c, f[3])
				}
			}
		})
	}
	wg.Wait()
	if errs := enforcerErrors(t, log); len(errs) > len(before) {
		t.Fatalf("the enforcer reported errors while probing, so some drops may be its own, not the policies':\n%s", strings.Join(errs[len(before):], "\n"))
	}
	return m
}

// enforcerErrors returns the error lines of the enforcer's log.
func enforcerErrors(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("reading the enforcer's log: %v", err)
	}
	var errs []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.Contains(line, " error: ") {
			errs = append(errs, line)
		}
	}
	return errs
}

// netpolMatrix is `netpol matrix -o json` on the live cluster, with the
// externals and the probes of the story, keyed like the measured matrix.
func netpolMatrix(t *testing.T, n *netpolRunner, s *story) matrix {
	t.Helper()
	var ext, probes []string
	for _, e := range externals {
		ext = append(ext, e.addr.String())
	}
	for _, p := range s.probes {
		probes = append(probes, p.String())
	}
	out := n.ok(t, "matrix", "-A", "--external", strings.Join(ext, ","), "--probe", strings.Join(probes, ","), "-o", "json")
	var got struct {
		Results []struct {
			From    string `json:"from"`
			To      string `json:"to"`
			Probe   string `json:"probe"`
			Allowed bool   `json:"allowed"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("netpol matrix -o json: %v\n%s", err, out)
	}
	byName := map[string]string{}
	for _, e := range s.endpoints {
		byName[e.matrix] = e.id
	}
	m := matrix{}
	for _, r := range got.Results {
		proto, port, _ := strings.Cut(r.Probe, "/")
		p, _ := strconv.Atoi(port)
		from, to := byName[r.From], byName[r.To]
		if from == "" || to == "" {
			t.Fatalf("netpol matrix names an endpoint the lab does not have: %q -> %q", r.From, r.To)
		}
		m[connection{from, to, probe{proto, p}}] = r.Allowed
	}
	return m
}

// compare reports every connection on which the lab and netpol disagree,
// and any connection only one of them has.
func compare(t *testing.T, what string, lab, model matrix) {
	t.Helper()
	var diffs []string
	for c, allowed := range lab {
		want, ok := model[c]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%v: measured, not in netpol matrix", c))
		case want != allowed:
			diffs = append(diffs, fmt.Sprintf("%v: measured %s, netpol matrix says %s", c, verdict(allowed), verdict(want)))
		}
	}
	for c := range model {
		if _, ok := lab[c]; !ok {
			diffs = append(diffs, fmt.Sprintf("%v: in netpol matrix, not measured", c))
		}
	}
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Errorf("%s: %s", what, d)
	}
}

func verdict(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "dropped"
}

// allowed lists the allowed connections, sorted, with their count among all.
func (m matrix) allowed() (lines []string, total int) {
	for c, ok := range m {
		if ok {
			lines = append(lines, c.String())
		}
	}
	slices.Sort(lines)
	return lines, len(m)
}

// table renders the matrix per source and destination: the probes allowed,
// or "-" when all are dropped.
func (m matrix) table(s *story) string {
	var b strings.Builder
	w := 0
	for _, e := range s.endpoints {
		w = max(w, len(e.id))
	}
	for _, src := range s.endpoints {
		for _, dst := range s.endpoints {
			if src.id == dst.id {
				continue
			}
			var ok []string
			for _, p := range s.probes {
				if m[connection{src.id, dst.id, p}] {
					ok = append(ok, p.String())
				}
			}
			if len(ok) == 0 {
				continue
			}
			fmt.Fprintf(&b, "%-*s -> %-*s %s\n", w, src.id, w, dst.id, strings.Join(ok, " "))
		}
	}
	return b.String()
}

// since rounds the time since t0 for the timings line.
func since(t0 time.Time) time.Duration { return time.Since(t0).Round(time.Millisecond) }
