// Package kubetest runs netpol's tests against a real kube-apiserver and
// etcd on loopback, started with test/kube/start-kube.sh from binaries
// built into a cache outside the repository (test/kube/start-kube.sh build,
// which .ci/run calls).
//
// A test package calls Main from TestMain; its tests call Get for the one
// server of the package, which starts on first use and stops (by PID, with
// its directory removed) when the tests end, or when the test binary dies.
// Tests are skipped only when NETPOL_SKIP_KUBE=1 says so; a missing binary
// or a server that does not start fails them.
//
// It is imported by tests only. It may import client-go, the Kubernetes
// type modules and the standard library.
package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// SkipEnv, set to 1, skips the tests that need an API server.
const SkipEnv = "NETPOL_SKIP_KUBE"

// Server is a running kube-apiserver.
type Server struct {
	// Dir is the server's runtime directory.
	Dir string
	// Kubeconfig is an admin kubeconfig (group system:masters).
	Kubeconfig string
	// RestrictedKubeconfig is the kubeconfig of user "restricted", group
	// RestrictedGroup, which has no permission until a test binds one.
	RestrictedKubeconfig string
	// URL is the API server's address.
	URL string
	// Script is the path of start-kube.sh.
	Script string
}

// RestrictedGroup is the group of the restricted user.
const RestrictedGroup = "netpol-test:restricted"

var (
	once    sync.Once
	server  *Server
	started error
)

// Main runs the tests of a package and stops its server afterwards.
func Main(m *testing.M) {
	code := m.Run()
	if server != nil {
		if err := server.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "kubetest:", err)
		}
	}
	os.Exit(code)
}

// Get returns the package's server, starting it on first use. It skips t
// when NETPOL_SKIP_KUBE=1 and fails it when the server cannot start.
func Get(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: not running the tests against a real API server", SkipEnv)
	}
	once.Do(func() { server, started = start() })
	if started != nil {
		t.Fatalf("starting kube-apiserver: %v", started)
	}
	return server
}

// RepoRoot returns the repository's root directory: the nearest parent of
// the working directory with test/kube/start-kube.sh.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "test", "kube", "start-kube.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("test/kube/start-kube.sh not found above the working directory")
		}
		dir = parent
	}
}

// start runs start-kube.sh start in a new directory, without building.
func start() (*Server, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "netpol-kubetest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Script: filepath.Join(root, "test", "kube", "start-kube.sh")}
	cmd := exec.Command("bash", s.Script, "start")
	cmd.Env = append(os.Environ(), "KUBE_TEST_DIR="+dir, "KUBE_NO_BUILD=1", fmt.Sprintf("KUBE_WATCH_PID=%d", os.Getpid()))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%s start: %v\n%s(build the binaries with: %s build, or set %s=1 to skip)",
			s.Script, err, stderr.String(), s.Script, SkipEnv)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok {
			env[k] = v
		}
	}
	s.Kubeconfig, s.RestrictedKubeconfig, s.URL = env["KUBECONFIG"], env["KUBECONFIG_RESTRICTED"], env["KUBE_API_URL"]
	if s.Kubeconfig == "" || s.URL == "" {
		s.stop()
		return nil, fmt.Errorf("%s start printed no KUBECONFIG:\n%s", s.Script, out)
	}
	return s, nil
}

// stop stops the server by PID and removes its directory.
func (s *Server) stop() error {
	cmd := exec.Command("bash", s.Script, "stop")
	cmd.Env = append(os.Environ(), "KUBE_TEST_DIR="+s.Dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s stop: %v\n%s", s.Script, err, out)
	}
	return nil
}

// Config returns the admin REST config.
func (s *Server) Config(t testing.TB) *rest.Config {
	return s.config(t, s.Kubeconfig)
}

func (s *Server) config(t testing.TB, path string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg
}

// Client returns an admin clientset.
func (s *Server) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(s.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// UniqueName returns prefix followed by a random suffix: namespaces cannot
// be deleted for good without a controller manager, so every test makes
// its own.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Namespace creates a namespace with a unique name starting with prefix
// and the given labels, and returns its name.
func (s *Server) Namespace(t testing.TB, prefix string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: UniqueName(prefix), Labels: labels}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client(t).CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns.Name, err)
	}
	return ns.Name
}
