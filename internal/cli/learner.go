package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/state"
)

// learner runs flow sources into a graph builder and writes the state:
// every checkpoint, and once at the end.
type learner struct {
	mu      sync.Mutex
	b       *graph.Builder
	base    *graph.Graph
	path    string
	sources []netpol.FlowSource
	stderr  io.Writer
	// progress, when set (stderr is a terminal), gets a progress line every
	// second.
	progress io.Writer
	started  time.Time
	saved    int
	// closed is set once the final state is taken: a source still running
	// after the grace period emits into nothing.
	closed bool
	// namespaces are observed (by a server-side filter) whether or not
	// their flows come; live says that learning follows the present, so
	// that their window is the wall-clock time of the run.
	namespaces []string
	live       bool
}

// observe declares the namespaces a filter selects; their learning window
// is recorded even when no flow of theirs comes (for live sources, the
// wall-clock time of the run).
func (l *learner) observe(namespaces []string, live bool) {
	l.namespaces, l.live = namespaces, live
	l.b.Observe(namespaces...)
}

// grace is how long sources get to return once learning is stopped; a
// source blocked in a read (a pipe, standard input) is then abandoned, and
// the state written without it.
const grace = 2 * time.Second

func newLearner(base *graph.Graph, r *graph.Resolver, path string, sources []netpol.FlowSource, stderr io.Writer) *learner {
	return &learner{b: graph.NewBuilder(r, nil, graph.Options{}), base: base, path: path, sources: sources, stderr: stderr}
}

// emit is every source's emit function.
func (l *learner) emit(f *netpol.Flow) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("learning stopped")
	}
	l.b.Add(f)
	return nil
}

// run runs the sources until they end, ctx is done (Ctrl-C, SIGTERM,
// --duration) or one fails, then writes the state and prints the summary.
// A failing source stops the others; the state is then not written (the
// last checkpoint stays), and its error is returned.
func (l *learner) run(ctx context.Context, checkpoint time.Duration) error {
	l.started = time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, len(l.sources))
	for _, s := range l.sources {
		go func() { done <- s.Run(runCtx, l.emit) }()
	}
	tick := time.NewTicker(checkpoint)
	defer tick.Stop()
	var progress <-chan time.Time
	if l.progress != nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		progress = t.C
	}
	var failed error
	var abandon <-chan time.Time
	stop := runCtx.Done()
	for running := len(l.sources); running > 0; {
		select {
		case err := <-done:
			running--
			if err != nil && !stopped(runCtx, err) && failed == nil {
				failed = err
				cancel()
			}
		case <-stop:
			stop, abandon = nil, time.After(grace)
		case <-abandon:
			fmt.Fprintf(l.stderr, "netpol: warning: %d flow source(s) did not stop within %v; writing the state without them\n", running, grace)
			running = 0
		case <-tick.C:
			if err := l.save(); err != nil {
				fmt.Fprintf(l.stderr, "netpol: warning: checkpoint: %v\n", err)
			}
		case <-progress:
			l.printProgress()
		}
	}
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	if l.progress != nil {
		fmt.Fprint(l.progress, "\r\033[K")
	}
	if failed != nil {
		l.summary("stopped by an error; state not written")
		return failed
	}
	if err := l.save(); err != nil {
		l.summary("state not written")
		return err
	}
	l.summary("state written to " + l.path)
	return nil
}

// save writes the base state merged with what was learned so far.
func (l *learner) save() error {
	l.mu.Lock()
	g := graph.Merge(l.base, l.b.Graph())
	l.mu.Unlock()
	if l.live {
		for _, ns := range l.namespaces {
			g.Observe(ns, graph.Window{First: l.started, Last: time.Now()})
		}
	}
	if err := state.Save(l.path, g); err != nil {
		return err
	}
	l.saved++
	return nil
}

// counts sums the sources' statistics.
func (l *learner) counts() (rejected int64, problems []string, skipped int64) {
	for _, s := range l.sources {
		st := s.Stats()
		rejected += st.Rejected
		problems = append(problems, st.Problems...)
		for _, n := range st.Skipped {
			skipped += n
		}
	}
	return rejected, problems, skipped
}

func (l *learner) printProgress() {
	l.mu.Lock()
	st := l.b.Stats()
	edges, _ := l.b.Graph().Len()
	l.mu.Unlock()
	rejected, _, _ := l.counts()
	secs := time.Since(l.started).Seconds()
	fmt.Fprintf(l.progress, "\r\033[Knetpol: learning: %d flows (%.0f/s), %d edges, %s",
		st.Flows, float64(st.Flows)/secs, edges, plural(rejected, "rejected line", "rejected lines"))
}

// summary prints the problems of the sources and the one-line summary.
func (l *learner) summary(outcome string) {
	rejected, problems, skipped := l.counts()
	l.mu.Lock()
	st := l.b.Stats()
	learned, _ := l.b.Graph().Len()
	l.mu.Unlock()
	var b strings.Builder
	for _, p := range problems {
		b.WriteString("netpol: warning: " + p + "\n")
	}
	fmt.Fprintf(&b, "netpol: learned %s in %s: %d counted, %d duplicates, %d replies, %d without transport protocol, %d unresolved, %d pending; %s; %s, %d skipped records; %s\n",
		plural(st.Flows, "flow", "flows"), time.Since(l.started).Round(time.Millisecond),
		st.Counted, st.Duplicates, st.Replies, st.NoProtocol, st.Unresolved, st.Pending,
		plural(int64(learned), "edge", "edges"), plural(rejected, "rejected line", "rejected lines"), skipped, outcome)
	io.WriteString(l.stderr, b.String())
}

// stopped reports whether err only says that ctx ended: the normal end of a
// live source on Ctrl-C, SIGTERM or --duration, or of the others once one
// failed.
func stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
