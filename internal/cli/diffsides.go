package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/gitobj"
	"github.com/netpol/netpol/internal/hubble"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/state"
)

// loadSides reads both sides at once, then prints their load reports, the
// base's first.
func (o *diffOptions) loadSides(ctx context.Context, e *env, baseArg, headArg string) (base, head *netpol.Snapshot, err error) {
	type result struct {
		snap *netpol.Snapshot
		rep  *manifest.Report
		err  error
	}
	var res [2]result
	var wg sync.WaitGroup
	for i, arg := range []string{baseArg, headArg} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i].snap, res[i].rep, res[i].err = o.loadSide(ctx, e, []string{"BASE", "HEAD"}[i], arg)
		}()
	}
	wg.Wait()
	for _, r := range res {
		printReport(e.stderr, r.rep, o.verbose)
	}
	return res[0].snap, res[1].snap, errors.Join(res[0].err, res[1].err)
}

// loadSide reads one side of a diff: git:REV:PATH from the repository's
// objects, else a file, a directory or - through the manifest loader.
func (o *diffOptions) loadSide(ctx context.Context, e *env, which, arg string) (*netpol.Snapshot, *manifest.Report, error) {
	l := manifest.Loader{DefaultNamespace: o.namespace, Stdin: e.stdin}
	ref, isGit, err := gitobj.ParseRef(arg)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %w", which, err)
	}
	if !isGit {
		return l.Load([]string{arg})
	}
	files, err := gitobj.Repo{}.Read(ctx, ref, manifest.DirectoryFile)
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%s: no .yaml, .yml or .json files in directory", ref)
	}
	in := make([]manifest.File, len(files))
	for i, f := range files {
		in[i] = manifest.File{Name: f.Name, Data: f.Data}
	}
	return l.LoadFiles(in)
}

// observed returns the observed traffic the flags give: a state file, or
// Hubble captures resolved against base; nil for none.
func (o *diffOptions) observed(ctx context.Context, e *env, base *netpol.Snapshot) (*graph.Graph, error) {
	if o.statePath != "" {
		return state.Load(o.statePath)
	}
	if len(o.hubbleFiles) == 0 {
		return nil, nil
	}
	b := graph.NewBuilder(graph.NewResolver(base), nil, graph.Options{})
	src := hubble.NewFileSource(o.hubbleFiles, hubble.FileOptions{Stdin: e.stdin})
	if err := src.Run(ctx, func(f *netpol.Flow) error { b.Add(f); return nil }); err != nil {
		return nil, err
	}
	st := src.Stats()
	for _, p := range st.Problems {
		fmt.Fprintf(e.stderr, "netpol: warning: %s\n", p)
	}
	if o.verbose {
		bs := b.Stats()
		fmt.Fprintf(e.stderr, "netpol: observed %d flows: %d connections counted, %d unresolved\n", bs.Flows, bs.Counted, bs.Unresolved)
	}
	return b.Graph(), nil
}
