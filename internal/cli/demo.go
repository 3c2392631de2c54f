package cli

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/demo"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/simulate"
)

// demoOptions are the flags of `netpol demo`.
type demoOptions struct {
	export string
}

func newDemoCmd(e *env) *cobra.Command {
	o := &demoOptions{}
	c := &cobra.Command{
		Use:   "demo [--export DIR]",
		Short: "Show netpol on a bundled sample cluster, with no cluster and no network",
		Long: `Load a bundled sample cluster, a small microservice shop (namespaces
frontend, shop, payments, monitoring and kube-system with cluster DNS; default
deny in three namespaces and a few allow policies, one across namespaces and
some on named ports), print its connectivity matrix and explain one denied
connection.

--export writes the sample's manifests to a directory instead, to try the
other commands on them.`,
		Example: e.example(`
  NETPOL demo

  # Get the manifests and explore them
  NETPOL demo --export shop
  NETPOL matrix -f shop -n shop`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if o.export != "" {
				return exportDemo(e, o.export)
			}
			return runDemo(e.stdout, e.name, render.Options{Color: e.color})
		},
	}
	c.Flags().StringVar(&o.export, "export", "", "write the sample cluster's manifests to `DIR` and stop")
	_ = c.MarkFlagDirname("export")
	return c
}

// runDemo loads the sample cluster, prints its matrix and explains a denied
// connection to w. name is the program's display name.
func runDemo(w io.Writer, name string, o render.Options) error {
	snap, err := loadFS(demo.Cluster())
	if err != nil {
		return fmt.Errorf("loading the sample cluster: %w", err)
	}
	eng, err := simulate.Compile(snap, simulate.Options{Externals: []netip.Addr{netip.MustParseAddr(demo.External)}})
	if err != nil {
		return fmt.Errorf("compiling the sample cluster: %w", err)
	}
	probes, err := parseProbes(demo.Probes())
	if err != nil {
		return err
	}
	ids := make([]simulate.EndpointID, len(eng.Endpoints()))
	for i := range ids {
		ids[i] = simulate.EndpointID(i)
	}
	var b bytes.Buffer
	var templates []string
	for _, ep := range eng.Endpoints() {
		if ep.Kind == netpol.EndpointTemplate {
			templates = append(templates, ep.ID())
		}
	}
	fmt.Fprintf(&b, "A sample shop: %d pods, %d workload(s) with no pods yet (%s), %d NetworkPolicies\n",
		len(snap.Pods), len(templates), strings.Join(templates, ", "), len(snap.Policies))
	fmt.Fprintf(&b, "in %d namespaces, and a client on the internet (%s). Who can connect to whom:\n\n",
		len(snap.Namespaces), demo.External)
	m := eng.Matrix(ids, probes)
	if err := render.MatrixTable(&b, render.Matrix{Endpoints: eng.Endpoints(), Probes: probes, Allowed: m.Allowed}, o); err != nil {
		return err
	}
	r := resolver{eng: eng}
	src, err := r.source(demo.ExplainFrom)
	if err != nil {
		return err
	}
	dst, err := r.resolve(demo.ExplainTo)
	if err != nil {
		return err
	}
	p, _ := netpol.ParseProbe(demo.ExplainProbe)
	fmt.Fprintf(&b, "\nWhy can't the web frontend call the payments API?\n$ %s explain --from %s --to %s --probe %s\n",
		name, demo.ExplainFrom, demo.ExplainTo, p)
	if err := render.ExplanationText(&b, eng.Explain(src, dst.id, p), o); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nTry it on the sample's manifests: %s demo --export DIR, then %s matrix -f DIR.\n", name, name)
	_, err = w.Write(b.Bytes())
	return err
}

// loadFS reads every file of fsys, in lexical order, into one snapshot. A
// warning is an error.
func loadFS(fsys fs.FS) (*netpol.Snapshot, error) {
	all := &netpol.Snapshot{}
	l := manifest.Loader{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := fsys.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		snap, rep, err := l.Decode(path, f)
		if err != nil {
			return err
		}
		// The bundled files are clean: a warning or a skipped object is a bug.
		if len(rep.Warnings) > 0 || len(rep.Skipped) > 0 {
			return fmt.Errorf("%s: %s", path, rep)
		}
		all.Namespaces = append(all.Namespaces, snap.Namespaces...)
		all.Nodes = append(all.Nodes, snap.Nodes...)
		all.Pods = append(all.Pods, snap.Pods...)
		all.Services = append(all.Services, snap.Services...)
		all.EndpointSlices = append(all.EndpointSlices, snap.EndpointSlices...)
		all.Workloads = append(all.Workloads, snap.Workloads...)
		all.Policies = append(all.Policies, snap.Policies...)
		return nil
	})
	return all, err
}

// exportDemo writes the sample cluster's manifests to dir.
func exportDemo(e *env, dir string) error {
	fsys := demo.Cluster()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("exporting the sample cluster: %w", err)
	}
	fmt.Fprintf(e.stderr, "netpol: wrote the sample cluster to %s\n", dir)
	return nil
}
