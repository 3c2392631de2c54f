package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// BenchResult is what -bench prints.
type BenchResult struct {
	Oracle          string  `json:"oracle"`
	Tuples          int     `json:"tuples"`
	Seconds         float64 `json:"seconds"`
	TuplesPerSecond float64 `json:"tuplesPerSecond"`
	SetupSeconds    float64 `json:"setupSeconds"`
	Allowed         int     `json:"allowed"`
}

type tuple struct{ src, dst, probe int32 }

// tuples returns n pseudo-random tuples drawn with a fixed seed, so that every
// oracle benchmarks the same sequence for the same scenario.
func tuples(c *Case, n int, seed uint64) ([]tuple, error) {
	pods := 0
	for i := range c.Endpoints {
		if !c.Endpoints[i].External() {
			pods++
		}
	}
	if pods == 0 || len(c.Endpoints) < 2 {
		return nil, errors.New("bench needs at least one pod and two endpoints")
	}
	r := rand.New(rand.NewPCG(seed, 0x6e6574706f6c))
	ts := make([]tuple, 0, n)
	for len(ts) < n {
		i, j := r.IntN(len(c.Endpoints)), r.IntN(len(c.Endpoints))
		if i == j || (c.Endpoints[i].External() && c.Endpoints[j].External()) {
			continue
		}
		ts = append(ts, tuple{int32(i), int32(j), int32(r.IntN(len(c.ProbeList)))})
	}
	return ts, nil
}

// Bench evaluates n pseudo-random tuples and times only the evaluations.
func Bench(c *Case, ev Evaluator, oracle string, n int, seed uint64, setup time.Duration) (*BenchResult, error) {
	ts, err := tuples(c, n, seed)
	if err != nil {
		return nil, err
	}
	allowed := 0
	start := time.Now()
	for _, t := range ts {
		ok, err := ev.Allowed(int(t.src), int(t.dst), int(t.probe))
		if err != nil {
			return nil, fmt.Errorf("evaluating %s -> %s %s: %w", c.Endpoints[t.src].ID, c.Endpoints[t.dst].ID, c.Probes[t.probe], err)
		}
		if ok {
			allowed++
		}
	}
	elapsed := time.Since(start).Seconds()
	res := &BenchResult{Oracle: oracle, Tuples: n, Seconds: elapsed, SetupSeconds: setup.Seconds(), Allowed: allowed}
	if elapsed > 0 {
		res.TuplesPerSecond = float64(n) / elapsed
	}
	return res, nil
}
