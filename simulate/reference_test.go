package simulate_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/netpol/netpol"
	nt "github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

var propertySeeds = flag.Int("reference.seeds", 2000, "seeds per size for TestEngineMatchesReference")

// refCase is one generated snapshot, compiled with one set of options.
type refCase struct {
	seed   int64
	size   nt.Size
	opts   simulate.Options
	snap   *netpol.Snapshot
	probes []netpol.Probe
}

func (c *refCase) String() string {
	return fmt.Sprintf("seed %d cluster=%v ipBlockIgnoresPods=%v", c.seed, c.size.Cluster, c.opts.IPBlockIgnoresPods)
}

// newRefCase generates the snapshot of a seed, with the policies in the
// order given by perm (nil: as generated).
func newRefCase(seed int64, size nt.Size, ignorePods bool, perm *rand.Rand) *refCase {
	s := nt.Generate(seed, size)
	if perm != nil {
		perm.Shuffle(len(s.Policies), func(i, j int) { s.Policies[i], s.Policies[j] = s.Policies[j], s.Policies[i] })
		perm.Shuffle(len(s.Namespaces), func(i, j int) { s.Namespaces[i], s.Namespaces[j] = s.Namespaces[j], s.Namespaces[i] })
	}
	return &refCase{
		seed: seed, size: size, snap: s, probes: nt.Probes(s),
		opts: simulate.Options{IPBlockIgnoresPods: ignorePods, Externals: nt.Externals(seed, size)},
	}
}

// checkAgainstReference compares Evaluate and Matrix with the reference
// evaluator on every tuple of the case, and returns how many tuples it
// checked. It stops reporting after a few mismatches.
func checkAgainstReference(t *testing.T, c *refCase) int {
	t.Helper()
	e, err := simulate.Compile(c.snap, c.opts)
	if err != nil {
		t.Fatalf("%v: compiling a generated snapshot: %v", c, err)
	}
	ref := &nt.Reference{Snapshot: c.snap, IPBlockIgnoresPods: c.opts.IPBlockIgnoresPods}
	eps := e.Endpoints()
	ids := e.EndpointIDs()
	m := e.Matrix(ids, c.probes)
	n, bad := 0, 0
	for i := range ids {
		for j := range ids {
			for k, p := range c.probes {
				n++
				want := ref.Allowed(eps[i], eps[j], p)
				got := e.Evaluate(ids[i], ids[j], p).Verdict == simulate.Allowed
				gotM := m.Allowed(i, j, k)
				if got == want && gotM == want {
					continue
				}
				if bad++; bad <= 3 {
					t.Errorf("%v: %s -> %s %s: reference %v, Evaluate %v, Matrix %v\n%s",
						c, eps[i].ID(), eps[j].ID(), p, want, got, gotM, e.Explain(ids[i], ids[j], p))
				}
			}
		}
	}
	if bad > 3 {
		t.Errorf("%v: %d mismatches in all", c, bad)
	}
	return n
}

// TestEngineMatchesReference is the property test: on thousands of
// generated snapshots, with and without the Cluster constructs, with both
// ipBlock semantics and with the policies in a shuffled order, the engine
// agrees with the reference evaluator on every tuple.
func TestEngineMatchesReference(t *testing.T) {
	seeds := *propertySeeds
	if testing.Short() {
		seeds /= 10
	}
	for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
		t.Run(fmt.Sprintf("cluster=%v", size.Cluster), func(t *testing.T) {
			t.Parallel()
			tuples := 0
			for seed := range int64(seeds) {
				perm := rand.New(rand.NewPCG(uint64(seed), 7))
				tuples += checkAgainstReference(t, newRefCase(seed, size, seed%2 == 1, nil))
				tuples += checkAgainstReference(t, newRefCase(seed, size, seed%2 == 0, perm))
				if t.Failed() {
					t.Fatalf("stopping at seed %d", seed)
				}
			}
			t.Logf("%d seeds, %d tuples", seeds, tuples)
		})
	}
}

// TestMatrixMatchesEvaluate checks Matrix against Evaluate on subsets of
// endpoints in any order and with repeats, on small snapshots and on a
// slice of the large one.
func TestMatrixMatchesEvaluate(t *testing.T) {
	check := func(t *testing.T, name string, e *simulate.Engine, ids []simulate.EndpointID, probes []netpol.Probe) {
		m := e.Matrix(ids, probes)
		bad := 0
		for i := range ids {
			for j := range ids {
				for k, p := range probes {
					want := e.Evaluate(ids[i], ids[j], p).Verdict == simulate.Allowed
					if got := m.Allowed(i, j, k); got != want {
						if bad++; bad <= 3 {
							t.Errorf("%s: %s -> %s %s: Matrix %v, Evaluate %v", name, e.Endpoint(ids[i]).ID(), e.Endpoint(ids[j]).ID(), p, got, want)
						}
					}
				}
			}
		}
	}
	for seed := range int64(300) {
		for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
			c := newRefCase(seed, size, seed%3 == 0, nil)
			e, err := simulate.Compile(c.snap, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(uint64(seed), 11))
			all := e.EndpointIDs()
			sub := make([]simulate.EndpointID, r.IntN(len(all)+1))
			for i := range sub {
				sub[i] = all[r.IntN(len(all))]
			}
			check(t, c.String(), e, all, c.probes)
			check(t, c.String()+" subset", e, sub, c.probes)
		}
	}
	for _, size := range []nt.Size{nt.Large, largeCluster} {
		s := nt.Generate(1, size)
		e, err := simulate.Compile(s, simulate.Options{Externals: nt.Externals(1, size)})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 1))
		sub := make([]simulate.EndpointID, 150)
		for i := range sub {
			sub[i] = simulate.EndpointID(r.IntN(len(e.Endpoints())))
		}
		check(t, fmt.Sprintf("large cluster=%v", size.Cluster), e, sub, nt.Probes(s))
	}
}

var largeCluster = func() nt.Size { s := nt.Large; s.Cluster = true; return s }()

// TestEvaluateDoesNotAllocate checks the zero-alloc promise of Evaluate on
// every tuple of generated snapshots.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
		c := newRefCase(3, size, false, nil)
		e, err := simulate.Compile(c.snap, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		ids := e.EndpointIDs()
		allocs := testing.AllocsPerRun(20, func() {
			for _, src := range ids {
				for _, dst := range ids {
					for _, p := range c.probes {
						e.Evaluate(src, dst, p)
					}
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%v: Evaluate allocates: %v allocations per run of %d tuples", c, allocs, len(ids)*len(ids)*len(c.probes))
		}
	}
}

// TestReferenceNotTrivial guards the property test against a generator
// that stops producing interesting snapshots: across the seeds, every
// reason of a decision must occur, and denials must be common.
func TestReferenceNotTrivial(t *testing.T) {
	reasons := map[string]int{}
	allowed, total := 0, 0
	for seed := range int64(200) {
		for _, size := range []nt.Size{nt.Small, nt.SmallCluster} {
			c := newRefCase(seed, size, false, nil)
			e, err := simulate.Compile(c.snap, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, src := range e.EndpointIDs() {
				for _, dst := range e.EndpointIDs() {
					for _, p := range c.probes {
						r := e.Evaluate(src, dst, p)
						total++
						if r.Verdict == simulate.Allowed {
							allowed++
						}
						reasons["egress "+r.Egress.Reason.String()]++
						reasons["ingress "+r.Ingress.Reason.String()]++
					}
				}
			}
		}
	}
	for _, d := range []string{"egress", "ingress"} {
		for _, r := range []simulate.Reason{simulate.NotIsolated, simulate.RuleMatched, simulate.NoRuleMatched, simulate.NotSubject, simulate.SameEndpoint} {
			if reasons[d+" "+r.String()] == 0 {
				t.Errorf("no %s decision with reason %q", d, r)
			}
		}
	}
	if reasons["ingress "+simulate.ResidentNode.String()] == 0 {
		t.Errorf("no ingress decision with reason %q", simulate.ResidentNode)
	}
	if share := float64(allowed) / float64(total); share < 0.3 || share > 0.9 {
		t.Errorf("%.0f%% of %d tuples allowed; want a mix", 100*share, total)
	}
	t.Logf("%d tuples, %d allowed; %s", total, allowed, strings.Join(sortedReasonCounts(reasons), ", "))
}

func sortedReasonCounts(m map[string]int) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return out
}
