package lab

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// labPods are the pods of the test: "ns/name" to address.
var labPods = map[string]string{
	"x/a": "10.250.7.11",
	"x/b": "10.250.7.12",
	"y/a": "10.250.7.21",
	"y/b": "10.250.7.22",
}

// probeCase is one TCP connection attempt and its expected outcome.
type probeCase struct {
	src, dst string
	proto    string // tcp or udp
	port     int
	want     string // OK or BLOCKED
}

func (p probeCase) String() string {
	return fmt.Sprintf("%s -> %s %s/%d", p.src, p.dst, p.proto, p.port)
}

// TestLab brings the lab up, creates the pods on a real API server, checks
// that every TCP and UDP connection passes without policies, applies a
// default-deny ingress policy in y plus an allow from x/a on TCP 80, and
// checks that exactly the expected connections are dropped; then that
// stopping the enforcer drops everything (fail closed).
func TestLab(t *testing.T) {
	skipUnlessCapable(t)
	t0 := time.Now()
	kubeconfig := startKube(t)
	tKube := time.Since(t0)

	dir := t.TempDir()
	t1 := time.Now()
	enforcer, agent := labBinaries(t)
	tBuild := time.Since(t1)

	var specs []string
	for pod, ip := range labPods {
		specs = append(specs, pod+"="+ip)
	}
	labDir := filepath.Join(dir, "lab")
	env := append(os.Environ(), "LAB_DIR="+labDir, "KUBECONFIG="+kubeconfig, "LAB_ENFORCER="+enforcer, "LAB_AGENT="+agent,
		"LAB_PODS="+strings.Join(specs, " "), "LAB_PORTS=80 81", "LAB_UDP_PORTS=53")
	t2 := time.Now()
	up := exec.Command("bash", "lab.sh", "up")
	up.Env = env
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("lab.sh up: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		down := exec.Command("bash", "lab.sh", "down")
		down.Env = env
		if out, err := down.CombinedOutput(); err != nil {
			t.Errorf("lab.sh down: %v\n%s", err, out)
		}
	})
	tUp := time.Since(t2)
	log := filepath.Join(labDir, "enforcer.log")

	ctx := t.Context()
	client := newClient(t, kubeconfig)
	t3 := time.Now()
	for _, ns := range []string{"x", "y"} {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating namespace %q: %v", ns, err)
		}
	}
	for pod, ip := range labPods {
		rv := createPod(t, client, pod, ip)
		waitSeen(t, log, "Pod", pod, rv)
	}
	tPods := time.Since(t3)

	all := func(proto string, port int, want string) []probeCase {
		var cs []probeCase
		for src := range labPods {
			for dst := range labPods {
				if src != dst {
					cs = append(cs, probeCase{src, dst, proto, port, want})
				}
			}
		}
		return cs
	}
	t4 := time.Now()
	checkProbes(t, env, append(all("tcp", 80, "OK"), all("udp", 53, "OK")...))
	tOpen := time.Since(t4)

	t5 := time.Now()
	for _, np := range policies() {
		got, err := client.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating policy %q: %v", np.Namespace+"/"+np.Name, err)
		}
		waitSeen(t, log, "NetworkPolicy", got.Namespace+"/"+got.Name, got.ResourceVersion)
	}
	tApply := time.Since(t5)

	// Into y only x/a on TCP 80; everything into x stays open.
	var want []probeCase
	for _, c := range append(append(all("tcp", 80, "OK"), all("tcp", 81, "OK")...), all("udp", 53, "OK")...) {
		if strings.HasPrefix(c.dst, "y/") && !(c.src == "x/a" && c.proto == "tcp" && c.port == 80) {
			c.want = "BLOCKED"
		}
		want = append(want, c)
	}
	t6 := time.Now()
	checkProbes(t, env, want)
	tPolicy := time.Since(t6)
	if b, err := os.ReadFile(log); err != nil || !bytes.Contains(b, []byte("verdict=DROP proto=TCP src=10.250.7.12:")) {
		t.Errorf("the enforcer log has no DROP of x/b's connections (err %v)", err)
	}

	// Fail closed: without the enforcer, nothing new gets through.
	stopEnforcer(t, labDir)
	checkProbes(t, env, []probeCase{{"x/a", "y/a", "tcp", 80, "BLOCKED"}, {"y/a", "x/a", "tcp", 80, "BLOCKED"}, {"y/a", "x/a", "udp", 53, "BLOCKED"}})

	t.Logf("timings: kube-up %v, enforcer+agent build %v, lab up %v, pods %v, 24 probes open %v, 2 policies applied+seen %v, 36 probes with policy %v, total %v",
		tKube.Round(time.Millisecond), tBuild.Round(time.Millisecond), tUp.Round(time.Millisecond), tPods.Round(time.Millisecond),
		tOpen.Round(time.Millisecond), tApply.Round(time.Millisecond), tPolicy.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
}

// bins holds the enforcer and the agent, built once for all the tests of
// the package (TestMain removes them).
var bins struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// labBinaries builds the enforcer and the agent on first use and returns
// their paths.
func labBinaries(t *testing.T) (enforcer, agent string) {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "nplab-bin-"); bins.err != nil {
			return
		}
		if out, err := exec.Command("go", "build", "-o", bins.dir, "./enforcer", "./agent").CombinedOutput(); err != nil {
			bins.err = fmt.Errorf("building the enforcer and the agent: %w\n%s", err, out)
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return filepath.Join(bins.dir, "enforcer"), filepath.Join(bins.dir, "agent")
}

// skipUnlessCapable skips the test when it cannot run: not root, a tool
// missing (ip, iptables, go and the tools named), or NETPOL_SKIP_KUBE=1.
// With NETPOL_LAB_REQUIRED=1 (as .ci/run sets it) a missing capability
// fails the test instead, so that a missing install step cannot pass as a
// skip.
func skipUnlessCapable(t *testing.T, tools ...string) {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("NETPOL_LAB_REQUIRED") == "1" {
		skip = t.Fatalf
	}
	if os.Getenv("NETPOL_SKIP_KUBE") == "1" {
		t.Skip("NETPOL_SKIP_KUBE=1: the lab needs a real API server")
	}
	if os.Getuid() != 0 {
		skip("the lab needs root (network namespaces, iptables, NFQUEUE)")
	}
	for _, tool := range append([]string{"ip", "iptables", "go"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			skip("the lab needs %s (iptables, conntrack: apt-get install iptables conntrack): %v", tool, err)
		}
	}
}

// startKube starts a kube-apiserver and etcd with test/kube/start-kube.sh
// (binaries from its cache; built if missing) and stops them at cleanup.
// Its Service range, 10.96.0.0/16, holds the demo's ClusterIPs.
func startKube(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "kube", "start-kube.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", script, "start")
	cmd.Env = append(os.Environ(), "KUBE_TEST_DIR="+dir, fmt.Sprintf("KUBE_WATCH_PID=%d", os.Getpid()))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Cleanup(func() {
		stop := exec.Command("bash", script, "stop")
		stop.Env = append(os.Environ(), "KUBE_TEST_DIR="+dir)
		if out, err := stop.CombinedOutput(); err != nil {
			t.Errorf("%s stop: %v\n%s", script, err, out)
		}
	})
	if err != nil {
		t.Fatalf("%s start: %v\n%s", script, err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "export KUBECONFIG="); ok {
			return v
		}
	}
	t.Fatalf("%s start printed no KUBECONFIG:\n%s", script, out)
	return ""
}

func newClient(t *testing.T, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("loading kubeconfig: %v", err)
	}
	// client-go's default of 5 requests per second would make creating the
	// demo's objects take seconds.
	cfg.QPS, cfg.Burst = 200, 400
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("creating client: %v", err)
	}
	return client
}

// createPod creates pod "ns/name" with label pod=<name> and container ports
// http=80 and alt=81, sets its status to Running with address ip, and
// returns the resourceVersion of the status update.
func createPod(t *testing.T, client *kubernetes.Clientset, id, ip string) string {
	t.Helper()
	ns, name, _ := strings.Cut(id, "/")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"pod": name}},
		Spec: corev1.PodSpec{
			NodeName: "lab-node",
			Containers: []corev1.Container{{Name: "c", Image: "lab/none", Ports: []corev1.ContainerPort{
				{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP},
				{Name: "alt", ContainerPort: 81, Protocol: corev1.ProtocolTCP},
			}}},
		},
	}
	ctx := t.Context()
	got, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod %q: %v", id, err)
	}
	got.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	got, err = client.CoreV1().Pods(ns).UpdateStatus(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("setting the status of pod %q: %v", id, err)
	}
	return got.ResourceVersion
}

// policies are a default-deny ingress policy in y and an allow from pods
// pod=a of namespace x on TCP port http (80).
func policies() []*networkingv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	http := intstr.FromString("http")
	return []*networkingv1.NetworkPolicy{
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "y", Name: "default-deny"},
			Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: "y", Name: "allow-x-a-http"},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "x"}},
						PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"pod": "a"}},
					}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &http}},
				}},
			},
		},
	}
}

// waitSeen waits until the enforcer's log shows that it has seen object key
// of kind at resourceVersion rv (or later: versions are not compared, the
// exact line is awaited), so that probes never race the watch.
func waitSeen(t *testing.T, log, kind, key, rv string) {
	t.Helper()
	line := []byte(fmt.Sprintf(" kind=%s key=%s rv=%s\n", kind, key, rv))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		if b, err := os.ReadFile(log); err == nil && bytes.Contains(b, line) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the enforcer did not see %s %s at rv %s within 10s (log %s)", kind, key, rv, log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkProbes runs the probes in parallel with lab.sh probe and reports
// every one whose outcome differs from the expected one.
func checkProbes(t *testing.T, env []string, cases []probeCase) {
	t.Helper()
	got := make([]string, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			cmd := exec.Command("bash", "lab.sh", "probe", c.src, c.dst, fmt.Sprint(c.port), c.proto)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			got[i] = strings.TrimSpace(string(out))
			if err != nil {
				got[i] = fmt.Sprintf("error %v: %s", err, out)
			}
		})
	}
	wg.Wait()
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("%v: got %s, want %s", c, got[i], c.want)
		}
	}
}

// stopEnforcer stops the enforcer by its PID and waits until it is gone.
func stopEnforcer(t *testing.T, labDir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labDir, "enforcer.pid"))
	if err != nil {
		t.Fatalf("reading the enforcer's PID: %v", err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatalf("parsing the enforcer's PID %q: %v", b, err)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(os.Interrupt); err != nil {
		t.Fatalf("stopping the enforcer: %v", err)
	}
	for range 100 {
		if err := p.Signal(syscall.Signal(0)); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the enforcer (PID %d) did not stop within 2s", pid)
}
