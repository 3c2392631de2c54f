package scenario

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// Evaluator decides one tuple. src and dst index [Case.Endpoints], probe
// indexes [Case.ProbeList]. The callers never pass src == dst, nor two
// externals.
type Evaluator interface {
	Allowed(src, dst, probe int) (bool, error)
}

// Output is the netpol matrix JSON contract.
type Output struct {
	Probes  []string `json:"probes"`
	Results []Result `json:"results"`
}

// Result is the verdict for one (from, to, probe) tuple.
type Result struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Probe   string `json:"probe"`
	Allowed bool   `json:"allowed"`
}

// Pairs calls fn for every ordered pair of distinct endpoints that is not
// external to external, in the order of [Case.Endpoints].
func (c *Case) Pairs(fn func(src, dst int) error) error {
	for i := range c.Endpoints {
		for j := range c.Endpoints {
			if i == j || (c.Endpoints[i].External() && c.Endpoints[j].External()) {
				continue
			}
			if err := fn(i, j); err != nil {
				return err
			}
		}
	}
	return nil
}

// each evaluates every pair for every probe and calls fn with the results
// in output order: by from, then to (endpoint IDs compared as strings), then
// probe input order.
func (c *Case) each(ev Evaluator, fn func(Result) error) error {
	return c.Pairs(func(i, j int) error {
		for k, p := range c.ProbeList {
			ok, err := ev.Allowed(i, j, k)
			if err != nil {
				return fmt.Errorf("evaluating %s -> %s %s: %w", c.Endpoints[i].ID, c.Endpoints[j].ID, p, err)
			}
			if err := fn(Result{From: c.Endpoints[i].ID, To: c.Endpoints[j].ID, Probe: c.Probes[k], Allowed: ok}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Matrix evaluates every pair for every probe and collects the results.
func Matrix(c *Case, ev Evaluator) (*Output, error) {
	out := &Output{Probes: append([]string{}, c.Probes...), Results: []Result{}}
	err := c.each(ev, func(r Result) error {
		out.Results = append(out.Results, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WriteMatrix evaluates every pair for every probe and streams the results
// to w in the format of [Output.Write], without holding them in memory.
func WriteMatrix(w io.Writer, c *Case, ev Evaluator) error {
	mw, err := newMatrixWriter(w, c.Probes)
	if err != nil {
		return err
	}
	if err := c.each(ev, mw.add); err != nil {
		return err
	}
	return mw.close()
}

// Write prints o as JSON with one result per line, so that outputs diff well.
func (o *Output) Write(w io.Writer) error {
	mw, err := newMatrixWriter(w, o.Probes)
	if err != nil {
		return err
	}
	for _, r := range o.Results {
		if err := mw.add(r); err != nil {
			return err
		}
	}
	return mw.close()
}

type matrixWriter struct {
	w *bufio.Writer
	n int
}

func newMatrixWriter(w io.Writer, probes []string) (*matrixWriter, error) {
	b, err := json.Marshal(probes)
	if err != nil {
		return nil, err
	}
	mw := &matrixWriter{w: bufio.NewWriterSize(w, 1<<16)}
	fmt.Fprintf(mw.w, "{\"probes\":%s,\"results\":[", b)
	return mw, nil
}

func (mw *matrixWriter) add(r Result) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if mw.n > 0 {
		mw.w.WriteByte(',')
	}
	mw.n++
	mw.w.WriteByte('\n')
	_, err = mw.w.Write(line)
	return err
}

func (mw *matrixWriter) close() error {
	mw.w.WriteString("\n]}\n")
	return mw.w.Flush()
}

// Key identifies one tuple of a matrix.
type Key struct{ From, To, Probe string }

// ReadOutput decodes a matrix, or an expectation file that holds a subset of
// one (only "results" is required).
func ReadOutput(r io.Reader) (*Output, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var o Output
	if err := DecodeStrict(data, &o); err != nil {
		return nil, fmt.Errorf("decoding matrix: %w", err)
	}
	return &o, nil
}

// Verdicts indexes the results of o by tuple.
func (o *Output) Verdicts() map[Key]bool {
	m := make(map[Key]bool, len(o.Results))
	for _, r := range o.Results {
		m[Key{r.From, r.To, r.Probe}] = r.Allowed
	}
	return m
}

// Mismatches lists, in the order of want, every tuple of want that o misses
// or decides differently.
func (o *Output) Mismatches(want *Output) []string {
	got := o.Verdicts()
	var out []string
	for _, w := range want.Results {
		g, ok := got[Key{w.From, w.To, w.Probe}]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s -> %s %s: missing, want allowed=%t", w.From, w.To, w.Probe, w.Allowed))
		case g != w.Allowed:
			out = append(out, fmt.Sprintf("%s -> %s %s: allowed=%t, want %t", w.From, w.To, w.Probe, g, w.Allowed))
		}
	}
	return out
}
