package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/state"
)

var learnT0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// fakeSource emits its flows, then blocks until ctx is done (block), or
// returns err.
type fakeSource struct {
	flows   []netpol.Flow
	block   bool
	err     error
	emitted chan struct{} // closed once every flow is emitted, when set
}

func (s *fakeSource) Run(ctx context.Context, emit func(*netpol.Flow) error) error {
	for i := range s.flows {
		f := s.flows[i]
		if err := emit(&f); err != nil {
			return err
		}
	}
	if s.emitted != nil {
		close(s.emitted)
	}
	if s.block {
		<-ctx.Done()
		return fmt.Errorf("fake: %w", ctx.Err())
	}
	return s.err
}

func (s *fakeSource) Stats() netpol.SourceStats {
	return netpol.SourceStats{Flows: int64(len(s.flows)), Rejected: 1, Problems: []string{"fake.json:3: bad line"}}
}

// webToCart returns n connections from shop/web to shop/cart:8080, one a
// second.
func webToCart(n int) []netpol.Flow {
	var out []netpol.Flow
	for i := range n {
		out = append(out, netpol.Flow{
			Time:        learnT0.Add(time.Duration(i) * time.Second),
			Source:      netpol.FlowEndpoint{IP: netip.MustParseAddr("10.0.0.1"), Port: uint16(40000 + i), Namespace: "shop", Pod: "web-6b8f9c7d5-k2m9p"},
			Destination: netpol.FlowEndpoint{IP: netip.MustParseAddr("10.0.0.2"), Port: 8080, Namespace: "shop", Pod: "cart-6b8f9c7d5-x2x4z"},
			Protocol:    netpol.ProtocolTCP, Verdict: netpol.Forwarded, Reply: netpol.No,
		})
	}
	return out
}

func timeSecond(i int) time.Duration { return time.Duration(i) * time.Second }

func loadState(t *testing.T, path string) *graph.Graph {
	t.Helper()
	g, err := state.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// countOf returns the count of web -> cart TCP/8080 in the state file.
func countOf(t *testing.T, path string) int64 {
	t.Helper()
	g, err := state.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range g.Edges() {
		if e.From.Name == "web" && e.To.Name == "cart" && len(e.Forwarded) == 1 {
			return e.Forwarded[0].Count
		}
	}
	return 0
}

func TestLearnerExtendsState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.state")
	for run, want := range []int64{3, 6} {
		base, _, err := state.LoadOrNew(path)
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		l := newLearner(base, graph.NewResolver(nil), path, []netpol.FlowSource{&fakeSource{flows: webToCart(3)}}, &stderr)
		if err := l.run(context.Background(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := countOf(t, path); got != want {
			t.Errorf("run %d: count %d, want %d", run, got, want)
		}
		for _, s := range []string{"netpol: warning: fake.json:3: bad line\n", "netpol: learned 3 flows in ", ": 3 counted, 0 duplicates",
			"; 1 edge; 1 rejected line, 0 skipped records; state written to " + path + "\n"} {
			if !strings.Contains(stderr.String(), s) {
				t.Errorf("stderr %q lacks %q", stderr.String(), s)
			}
		}
	}
}

func TestLearnerCheckpointAndStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.state")
	src := &fakeSource{flows: webToCart(4), block: true, emitted: make(chan struct{})}
	var stderr bytes.Buffer
	l := newLearner(graph.New(), graph.NewResolver(nil), path, []netpol.FlowSource{src}, &stderr)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.run(ctx, 10*time.Millisecond) }()
	<-src.emitted
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil && countOf(t, path) == 4 {
			break // a checkpoint was written while the source still runs
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint written within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
	if got := countOf(t, path); got != 4 {
		t.Errorf("count %d after stop, want 4", got)
	}
}

func TestLearnerSourceError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.state")
	boom := errors.New("boom")
	var stderr bytes.Buffer
	l := newLearner(graph.New(), graph.NewResolver(nil), path, []netpol.FlowSource{
		&fakeSource{flows: webToCart(2), err: boom},
		&fakeSource{flows: webToCart(1), block: true},
	}, &stderr)
	if err := l.run(context.Background(), time.Minute); !errors.Is(err, boom) {
		t.Fatalf("run = %v, want boom", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state written after a source failed: %v", err)
	}
	if !strings.Contains(stderr.String(), "stopped by an error; state not written") {
		t.Errorf("stderr %q does not say the state was not written", stderr.String())
	}
}

func TestLearnerAbandonsStuckSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.state")
	stuck := make(chan struct{})
	defer close(stuck)
	src := stuckSource{flows: webToCart(2), release: stuck}
	var stderr bytes.Buffer
	l := newLearner(graph.New(), graph.NewResolver(nil), path, []netpol.FlowSource{src}, &stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.run(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := countOf(t, path); got != 2 {
		t.Errorf("count %d, want 2", got)
	}
	if !strings.Contains(stderr.String(), "did not stop within") {
		t.Errorf("stderr %q lacks the warning about the stuck source", stderr.String())
	}
}

// stuckSource emits its flows and then ignores ctx, as a read from a pipe.
type stuckSource struct {
	flows   []netpol.Flow
	release chan struct{}
}

func (s stuckSource) Run(_ context.Context, emit func(*netpol.Flow) error) error {
	for i := range s.flows {
		if err := emit(&s.flows[i]); err != nil {
			return err
		}
	}
	<-s.release
	return nil
}

func (stuckSource) Stats() netpol.SourceStats { return netpol.SourceStats{} }

// TestLearnSIGINT runs the learn command on a FIFO that stays open, waits
// for a checkpoint, and interrupts the process: the state must be written
// and the command end normally.
func TestLearnSIGINT(t *testing.T) {
	dir := t.TempDir()
	fifo, path := filepath.Join(dir, "flows"), filepath.Join(dir, "s.state")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	line := `{"flow":{"time":"2024-05-01T12:00:00Z","verdict":"FORWARDED","IP":{"source":"10.0.0.1","destination":"10.0.0.2","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":41000,"destination_port":8080,"flags":{"SYN":true}}},"source":{"identity":1234,"namespace":"shop","labels":["k8s:app=web"],"pod_name":"web-6b8f9c7d5-k2m9p"},"destination":{"identity":5678,"namespace":"shop","labels":["k8s:app=cart"],"pod_name":"cart-6b8f9c7d5-x2x4z"},"Type":"L3_L4","is_reply":false,"traffic_direction":"EGRESS"},"node_name":"n1","time":"2024-05-01T12:00:00Z"}` + "\n"
	var wg sync.WaitGroup
	wg.Add(1)
	writer := make(chan *os.File, 1)
	go func() {
		defer wg.Done()
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			writer <- nil
			return
		}
		w.WriteString(line)
		writer <- w // kept open: the reader blocks, as on a live pipe
	}()
	var stdout, stderr bytes.Buffer
	codec := make(chan int, 1)
	go func() {
		codec <- Main("netpol", []string{"learn", "--hubble-file", fifo, "--state", path, "--checkpoint", "20ms"}, nil, &stdout, &stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil && countOf(t, path) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint within 20s; stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-codec:
		if code != ExitOK {
			t.Errorf("exit code %d after SIGINT, want 0; stderr: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("learn did not stop within 20s of SIGINT")
	}
	if w := <-writer; w != nil {
		w.Close()
	}
	wg.Wait()
	if got := countOf(t, path); got != 1 {
		t.Errorf("count %d, want 1", got)
	}
	if !strings.Contains(stderr.String(), "state written to") {
		t.Errorf("stderr %q lacks the summary", stderr.String())
	}
}
