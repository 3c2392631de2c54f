package kube

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// flagUsage are the kubectl connection flags netpol offers, with their
// help: which kubeconfig, context and user, impersonation, and the request
// timeout. The namespace flag (-n) belongs to each command.
var flagUsage = []struct{ name, usage string }{
	{"kubeconfig", "read the API server's address and credentials from kubeconfig `FILE` (default: $KUBECONFIG, else ~/.kube/config)"},
	{"context", "use the kubeconfig context `NAME` (default: the current context)"},
	{"user", "use the kubeconfig user `NAME`"},
	{"as", "impersonate user `NAME` (a user, or system:serviceaccount:NS:NAME)"},
	{"as-group", "impersonate group `NAME` (repeatable)"},
	{"as-uid", "impersonate the user `UID`"},
	{"request-timeout", "give up on an API request after `D`, such as 30s (0: no limit)"},
}

// Flags are the kubectl connection flags. The zero value is not usable;
// call NewFlags.
type Flags struct {
	cf *genericclioptions.ConfigFlags
}

// NewFlags returns the connection flags. namespace points at the command's
// own -n value, which overrides the kubeconfig context's namespace.
func NewFlags(namespace *string) *Flags {
	cf := genericclioptions.NewConfigFlags(false)
	cf.Namespace = namespace
	return &Flags{cf: cf}
}

// AddFlags adds the connection flags to fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	all := pflag.NewFlagSet("kube", pflag.ContinueOnError)
	f.cf.AddFlags(all)
	for _, f := range flagUsage {
		if fl := all.Lookup(f.name); fl != nil {
			fl.Usage = f.usage
			fs.AddFlag(fl)
		}
	}
}

// ErrNoConfig is returned by Connect when there is no kubeconfig to use:
// no --kubeconfig, no KUBECONFIG, no ~/.kube/config and not in a pod.
var ErrNoConfig = errors.New("no kubeconfig found (--kubeconfig, KUBECONFIG or ~/.kube/config)")

// Connect returns a client for the cluster the flags name, and the
// namespace to use: the -n value, else the context's, else "default".
func (f *Flags) Connect() (*Client, string, error) {
	loader := f.cf.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	// Without any cluster, client-go would fall back to localhost:8080.
	inCluster := os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != ""
	if len(raw.Clusters) == 0 && !inCluster {
		return nil, "", ErrNoConfig
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", ErrNoConfig
		}
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	c, err := NewClient(cfg)
	if err != nil {
		return nil, "", err
	}
	return c, ns, nil
}

// Client talks to one cluster. It is safe for concurrent use.
type Client struct {
	cs   kubernetes.Interface
	host string
}

// NewClient returns a client for cfg, with client-side rate limits high
// enough for paged reads of large clusters.
func NewClient(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	cfg.UserAgent = "netpol"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Host, err)
	}
	return &Client{cs: cs, host: cfg.Host}, nil
}

// Host returns the API server's address.
func (c *Client) Host() string { return c.host }
