package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/demo"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/render"
)

// demoOptions are the flags of `netpol demo`.
type demoOptions struct {
	export      string
	exportStory string
}

func newDemoCmd(e *env) *cobra.Command {
	o := &demoOptions{}
	c := &cobra.Command{
		Use:   "demo [--export DIR | --export-story DIR]",
		Short: "Show netpol on a bundled shop: learn its traffic, generate its policies, prove them; no cluster, no network",
		Long: `Run the whole story on a bundled example, with no cluster and no network: a
web shop's manifests (namespaces frontend, shop, payments, monitoring,
reports and kube-system with its DNS; no NetworkPolicy) and an hour of its
traffic recorded by Hubble (hubble observe -o json): DNS lookups, a card
provider outside the cluster called through DNS, a client on the internet,
and a report builder that never talks.

The demo learns the flows into a connectivity graph, generates default-deny
and minimal allow policies for every namespace, writes them (and their Cilium
form) to a temporary directory it names, checks with the simulator that every
observed connection is allowed and nothing else is, and explains one allowed
and one denied connection.

--export-story writes the story's manifests and flows to a directory, to run
each step by hand. --export writes another sample instead: a shop cluster
with hand-written policies, to try matrix, explain and simulate on.`,
		Example: e.example(`
  NETPOL demo

  # Run the story step by step
  NETPOL demo --export-story story
  NETPOL learn --hubble-file story/flows.jsonl -f story/cluster --state story/shop.state
  NETPOL generate --state story/shop.state -f story/cluster -A --out-dir story/policies

  # The sample with hand-written policies
  NETPOL demo --export shop
  NETPOL matrix -f shop -n shop`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			switch {
			case o.export != "" && o.exportStory != "":
				return errors.New("--export and --export-story exclude each other")
			case o.export != "":
				return exportFS(e, demo.Cluster(), o.export, "the sample cluster")
			case o.exportStory != "":
				return exportStory(e, o.exportStory)
			}
			dir, err := os.MkdirTemp("", "netpol-demo-")
			if err != nil {
				return err
			}
			return runDemo(e.stdout, e.name, render.Options{Color: e.color}, dir)
		},
	}
	c.Flags().StringVar(&o.export, "export", "", "write the sample cluster with hand-written policies to `DIR` and stop")
	c.Flags().StringVar(&o.exportStory, "export-story", "", "write the story's manifests and recorded flows to `DIR` and stop")
	_ = c.MarkFlagDirname("export")
	_ = c.MarkFlagDirname("export-story")
	return c
}

// loadFS reads every file of fsys, in lexical order, into one snapshot. A
// warning is an error.
func loadFS(fsys fs.FS) (*netpol.Snapshot, error) {
	var files []manifest.File
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		files = append(files, manifest.File{Name: path, Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	snap, rep, err := (&manifest.Loader{}).LoadFiles(files)
	if err != nil {
		return nil, err
	}
	// The bundled files are clean: a warning or a skipped object is a bug.
	if len(rep.Warnings) > 0 || len(rep.Skipped) > 0 {
		return nil, fmt.Errorf("%s: %s", rep, strings.Join(rep.Warnings, "; "))
	}
	return snap, nil
}

// exportFS writes the files of fsys to dir; what names them in the
// message.
func exportFS(e *env, fsys fs.FS, dir, what string) error {
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
		return fmt.Errorf("exporting %s: %w", what, err)
	}
	fmt.Fprintf(e.stderr, "netpol: wrote %s to %s\n", what, dir)
	return nil
}

// exportStory writes the story's manifests to dir/cluster and its flows
// to dir/flows.jsonl.
func exportStory(e *env, dir string) error {
	if err := exportFS(e, demo.StoryCluster(), filepath.Join(dir, "cluster"), "the story's manifests"); err != nil {
		return err
	}
	path := filepath.Join(dir, demo.StoryFlowsName)
	if err := os.WriteFile(path, demo.StoryFlows(), 0o644); err != nil {
		return fmt.Errorf("exporting the story's flows: %w", err)
	}
	fmt.Fprintf(e.stderr, "netpol: wrote the story's recorded Hubble flows to %s\n", path)
	return nil
}
