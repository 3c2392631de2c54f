package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/kube"
	"github.com/netpol/netpol/internal/manifest"
)

// completionTimeout bounds the API requests of shell completion.
const completionTimeout = 5 * time.Second

// errNoCluster is the error of a command given neither -f nor a kubeconfig.
var errNoCluster = errors.New("no cluster given: read manifests with -f PATH (a file, a directory, or - for standard input), " +
	"or give a kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config) to read the live cluster")

// readLive reads the live cluster into the manifest form that netpol
// snapshot writes, and returns it with a name for messages.
func readLive(ctx context.Context, f *kube.Flags, o kube.ReadOptions) (*kube.Objects, string, error) {
	c, _, err := f.Connect()
	if errors.Is(err, kube.ErrNoConfig) {
		return nil, "", errNoCluster
	}
	if err != nil {
		return nil, "", err
	}
	objs, err := c.Read(ctx, o)
	if err != nil {
		return nil, "", fmt.Errorf("reading the cluster at %s: %w", c.Host(), err)
	}
	return objs, c.Host(), nil
}

// decodeLive reads objs as the offline commands read a snapshot file, so
// that a live read and its snapshot give the same result.
func decodeLive(objs *kube.Objects, name, namespace string) (*netpol.Snapshot, *manifest.Report, error) {
	var buf bytes.Buffer
	if err := objs.Encode(&buf, "json"); err != nil {
		return nil, nil, err
	}
	l := manifest.Loader{DefaultNamespace: namespace}
	return l.Decode("cluster "+name, &buf)
}

// loadLive reads the live cluster when no -f is given.
func (o *clusterOptions) loadLive(ctx context.Context, e *env) (*netpol.Snapshot, error) {
	objs, name, err := readLive(ctx, o.kube, kube.ReadOptions{})
	if err != nil {
		return nil, err
	}
	snap, rep, err := decodeLive(objs, name, o.namespace)
	printReport(e.stderr, rep, o.verbose)
	if o.verbose && err == nil {
		fmt.Fprintf(e.stderr, "netpol: read %d objects from %s in %d requests\n", objs.Len(), name, objs.Requests)
	}
	return snap, err
}

// quietLive reads the live cluster for shell completion: nothing printed,
// nil on any problem.
func (o *clusterOptions) quietLive() *netpol.Snapshot {
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	objs, name, err := readLive(ctx, o.kube, kube.ReadOptions{})
	if err != nil {
		return nil
	}
	snap, _, err := decodeLive(objs, name, o.namespace)
	if err != nil {
		return nil
	}
	return snap
}

// liveNamespaces returns the names of the live cluster's namespaces, for
// shell completion; nil on any problem.
func liveNamespaces(f *kube.Flags) []string {
	c, _, err := f.Connect()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	names, err := c.Namespaces(ctx)
	if err != nil {
		return nil
	}
	slices.Sort(names)
	return names
}

// optionalLive reads the live cluster for a command that can do without
// one (learn): nil when there is no kubeconfig.
func optionalLive(ctx context.Context, e *env, f *kube.Flags) (*netpol.Snapshot, error) {
	snap, err := (&clusterOptions{kube: f}).loadLive(ctx, e)
	if errors.Is(err, errNoCluster) {
		return nil, nil
	}
	return snap, err
}
