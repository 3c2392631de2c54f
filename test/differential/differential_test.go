package differential

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netpol/netpol"
	nt "github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

var (
	flagScenarios = flag.Int("differential.scenarios", 500, "how many generated scenarios (seeds) to compare; -short caps it at 60")
	flagSeed      = flag.Int64("differential.seed", 0, "first seed")
	flagParallel  = flag.Int("differential.parallel", 0, "scenarios in flight (0: four per CPU; the oracles mostly wait)")
	flagKeep      = flag.String("differential.keep", "", "directory for the scenarios of unexplained disagreements (default: a new directory under the temp dir)")
)

// cyclonusBugs are the known label-selector bugs of cyclonus v0.5.6, the
// only accepted reasons for cyclonus to disagree with netpol. Each is
// modelled by the reference evaluator's cyclonus matcher; a disagreement
// counts as explained only when that matcher reproduces cyclonus's verdict.
var cyclonusBugs = []struct {
	bugs nt.CyclonusBugs
	what string
}{
	{nt.NotInMissingKey, "NotIn with a missing key does not match (IsMatchExpressionMatchForLabels: \"if the key isn't there, it's not a match\")"},
	{nt.EmptyValueMatchesMissing, "matchLabels {k: \"\"} matches objects without k (IsLabelsMatchLabelSelector compares labels[key] != val)"},
}

// TestDifferential compares netpol's engine with kube-network-policies
// (production wiring and its pure function) and cyclonus on generated
// scenarios, tuple by tuple. knp must agree everywhere. cyclonus must agree
// except where its known label-selector bugs apply, and the reference
// evaluator with the cyclonus matcher must reproduce every cyclonus verdict.
// Any other disagreement fails the test and keeps the scenario, the tuple
// and netpol's explanation in a directory named in the failure.
//
//	go test ./test/differential -v -differential.scenarios=20000
func TestDifferential(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found on PATH: cannot build the oracles under test/oracles")
	}
	n := *flagScenarios
	if testing.Short() {
		n = min(n, 60)
	}
	bins := buildOracles(t, "knp", "cyclonus")
	d := &differ{
		t: t,
		oracles: []*oracle{
			// knp's production wiring (fake clientset, informers,
			// PolicyEngine) costs a quarter second of informer sync per
			// process; its pure evaluation function runs on every scenario.
			{name: "knp", bin: bins["knp"], every: 5},
			{name: "knp-pure", bin: bins["knp"], args: []string{"-pure"}},
			{name: "cyclonus", bin: bins["cyclonus"]},
		},
		counts: map[string]int{},
	}
	workers := *flagParallel
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	seeds := make(chan int64)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				d.check(seed)
			}
		}()
	}
	deadline, hasDeadline := t.Deadline()
	for seed := *flagSeed; seed < *flagSeed+int64(n); seed++ {
		if d.tooManyFailures() {
			break
		}
		if hasDeadline && time.Until(deadline) < time.Minute {
			t.Logf("stopping at seed %d: the test deadline is near", seed)
			break
		}
		seeds <- seed
	}
	close(seeds)
	wg.Wait()
	d.summary(time.Since(start))
}

// differ runs the comparison of many scenarios concurrently.
type differ struct {
	t       *testing.T
	oracles []*oracle

	mu       sync.Mutex
	counts   map[string]int // tuples, per-oracle tuples, disagreements
	keepDir  string
	failures int
}

func (d *differ) add(key string, n int) {
	d.mu.Lock()
	d.counts[key] += n
	d.mu.Unlock()
}

func (d *differ) tooManyFailures() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failures >= 10
}

// scenarioRun is one scenario with the engine and the references.
type scenarioRun struct {
	seed     int64
	json     []byte
	engine   *simulate.Engine
	api      *nt.Reference
	cyclonus *nt.Reference
	probes   []netpol.Probe
	problems []string // unexplained disagreements, for the report
}

func (d *differ) check(seed int64) {
	run, err := newScenarioRun(seed)
	if err != nil {
		d.fail(&scenarioRun{seed: seed, problems: []string{err.Error()}})
		return
	}
	d.add("scenarios", 1)
	tuples := 0
	for _, o := range d.oracles {
		if o.every > 1 && seed%int64(o.every) != 0 {
			continue
		}
		start := time.Now()
		out, err := o.run(context.Background(), run.json)
		d.add("ns "+o.name, int(time.Since(start)))
		if err != nil {
			run.problems = append(run.problems, err.Error())
			continue
		}
		tuples = len(out.Results)
		d.add("tuples "+o.name, len(out.Results))
		d.compare(run, o.name, out)
	}
	d.add("tuples", tuples)
	if len(run.problems) > 0 {
		d.fail(run)
	}
}

func newScenarioRun(seed int64) (*scenarioRun, error) {
	s := nt.Generate(seed, nt.Small)
	sc, err := nt.NewScenario(s, nt.Externals(seed, nt.Small), nt.Probes(s))
	if err != nil {
		return nil, fmt.Errorf("seed %d: %w", seed, err)
	}
	var buf strings.Builder
	if err := sc.Write(&buf); err != nil {
		return nil, err
	}
	// The engine and the references read the scenario back, so that a kept
	// scenario file reproduces exactly what they saw.
	snap := sc.Snapshot()
	ext, err := sc.ExternalAddrs()
	if err != nil {
		return nil, err
	}
	probes, err := sc.ProbeList()
	if err != nil {
		return nil, err
	}
	e, err := simulate.Compile(snap, simulate.Options{Externals: ext})
	if err != nil {
		return nil, fmt.Errorf("seed %d: compiling: %w", seed, err)
	}
	return &scenarioRun{
		seed: seed, json: []byte(buf.String()), engine: e, probes: probes,
		api:      &nt.Reference{Snapshot: snap},
		cyclonus: &nt.Reference{Snapshot: snap, Match: nt.CyclonusMatcher(nt.AllCyclonusBugs)},
	}, nil
}

type tupleKey struct{ from, to, probe string }

// compare checks one oracle's verdicts against the engine: every tuple
// present exactly once, and each verdict equal or explained.
func (d *differ) compare(run *scenarioRun, name string, out *oracleOutput) {
	e := run.engine
	if want := probeStrings(run.probes); !slices.Equal(out.Probes, want) {
		run.problems = append(run.problems, fmt.Sprintf("%s: probes %q, want %q", name, out.Probes, want))
	}
	want := expectedTuples(e, run.probes)
	seen := map[tupleKey]bool{}
	for _, r := range out.Results {
		k := tupleKey{r.From, r.To, r.Probe}
		src, ok1 := e.Lookup(r.From)
		dst, ok2 := e.Lookup(r.To)
		p, err := netpol.ParseProbe(r.Probe)
		if !ok1 || !ok2 || err != nil || !want[k] || seen[k] {
			run.problems = append(run.problems, fmt.Sprintf("%s: unexpected or repeated result %s -> %s %s", name, r.From, r.To, r.Probe))
			continue
		}
		seen[k] = true
		d.verdict(run, name, src, dst, p, r.Allowed)
	}
	if len(seen) != len(want) {
		run.problems = append(run.problems, fmt.Sprintf("%s: %d results, want %d", name, len(seen), len(want)))
	}
}

// verdict compares one oracle verdict with the engine's.
func (d *differ) verdict(run *scenarioRun, name string, src, dst simulate.EndpointID, p netpol.Probe, got bool) {
	e := run.engine
	s, t := e.Endpoint(src), e.Endpoint(dst)
	ours := e.Evaluate(src, dst, p).Verdict == simulate.Allowed
	explain := func(why string) {
		run.problems = append(run.problems, fmt.Sprintf("%s says %s -> %s %s allowed=%v, netpol says %v, reference (apimachinery) %v, reference (cyclonus bugs) %v: %s\nnetpol's explanation:\n%s",
			name, s.ID(), t.ID(), p, got, ours, run.api.Allowed(s, t, p), run.cyclonus.Allowed(s, t, p), why, e.Explain(src, dst, p)))
	}
	if name != "cyclonus" {
		if got != ours {
			d.add("disagreements "+name, 1)
			explain("unexplained disagreement")
		}
		return
	}
	modelled := run.cyclonus.Allowed(s, t, p)
	if got != modelled {
		explain("the reference with cyclonus's bugs does not reproduce cyclonus")
		return
	}
	if got == ours {
		return
	}
	d.add("disagreements cyclonus", 1)
	for _, b := range cyclonusBugs {
		only := nt.Reference{Snapshot: run.api.Snapshot, Match: nt.CyclonusMatcher(b.bugs)}
		if only.Allowed(s, t, p) == got {
			d.add("bug "+b.what, 1)
			return
		}
	}
	d.add("bug both together", 1)
}

func probeStrings(ps []netpol.Probe) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// expectedTuples lists every ordered pair of distinct endpoints, except
// external to external, for every probe.
func expectedTuples(e *simulate.Engine, probes []netpol.Probe) map[tupleKey]bool {
	out := map[tupleKey]bool{}
	eps := e.Endpoints()
	for i := range eps {
		for j := range eps {
			if i == j || eps[i].Kind == netpol.EndpointExternal && eps[j].Kind == netpol.EndpointExternal {
				continue
			}
			for _, p := range probes {
				out[tupleKey{eps[i].ID(), eps[j].ID(), p.String()}] = true
			}
		}
	}
	return out
}

// fail keeps the scenario and its problems, and fails the test.
func (d *differ) fail(run *scenarioRun) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failures++
	if d.keepDir == "" {
		dir := *flagKeep
		var err error
		if dir == "" {
			dir, err = os.MkdirTemp("", "netpol-differential-")
		} else {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			d.t.Errorf("seed %d: %s (and cannot keep it: %v)", run.seed, run.problems[0], err)
			return
		}
		d.keepDir = dir
	}
	base := filepath.Join(d.keepDir, fmt.Sprintf("seed-%d", run.seed))
	var cmds []string
	for _, o := range d.oracles {
		cmds = append(cmds, fmt.Sprintf("  %s %s -scenario %s.json", o.bin, strings.Join(o.args, " "), base))
	}
	report := fmt.Sprintf("Reproduce with\n  go test ./test/differential -run TestDifferential -differential.seed=%d -differential.scenarios=1\nor run the oracles on the kept scenario:\n%s\n\n%s",
		run.seed, strings.Join(cmds, "\n"), strings.Join(run.problems, "\n\n"))
	if err := os.WriteFile(base+".json", run.json, 0o644); err != nil {
		d.t.Errorf("keeping seed %d: %v", run.seed, err)
	}
	if err := os.WriteFile(base+".txt", []byte(report+"\n"), 0o644); err != nil {
		d.t.Errorf("keeping seed %d: %v", run.seed, err)
	}
	first := run.problems[0]
	d.t.Errorf("seed %d: %d unexplained problems, kept in %s.{json,txt}; the first:\n%s", run.seed, len(run.problems), base, first)
}

func (d *differ) summary(elapsed time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.counts
	d.t.Logf("%d scenarios, %d tuples compared with netpol's engine, in %v", c["scenarios"], c["tuples"], elapsed.Round(time.Millisecond))
	for _, o := range d.oracles {
		d.t.Logf("  %-9s %9d tuples, %v in processes, %d disagreements", o.name, c["tuples "+o.name],
			time.Duration(c["ns "+o.name]).Round(time.Millisecond), c["disagreements "+o.name])
	}
	for _, b := range cyclonusBugs {
		d.t.Logf("  cyclonus bug %q: %d tuples", b.what, c["bug "+b.what])
	}
	if n := c["bug both together"]; n > 0 {
		d.t.Logf("  cyclonus bugs together: %d tuples", n)
	}
	if d.keepDir != "" {
		d.t.Logf("unexplained disagreements kept in %s", d.keepDir)
	}
}
