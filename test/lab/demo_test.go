package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
)

// demoNamespaces are the namespaces of the demo, all of which get policies.
var demoNamespaces = "frontend,kube-system,monitoring,payments,reports,shop"

// demoEdges are the connections the demo's traffic (demo/traffic.txt)
// makes, as the workload graph names them: what learn must find, no more.
var demoEdges = []string{
	"198.51.100.23 -> frontend/web TCP/8080",
	"frontend/web -> kube-system/coredns UDP/53",
	"frontend/web -> shop/cart TCP/8080",
	"monitoring/prometheus -> payments/payments-api TCP/9090",
	"monitoring/prometheus -> shop/cart TCP/9090",
	"monitoring/prometheus -> shop/catalog TCP/9090",
	"payments/payments-api -> 203.0.113.50 TCP/443",
	"payments/payments-api -> kube-system/coredns UDP/53",
	"shop/cart -> kube-system/coredns UDP/53",
	"shop/cart -> payments/payments-api TCP/8443",
	"shop/cart -> shop/catalog TCP/8080",
	"shop/cart -> shop/redis TCP/6379",
}

// TestDemo is issue 8's end-to-end test: the demo application's pods in
// the lab, its real calls learned from the node's conntrack table through
// the live API, the generated policies applied in stages, every pair
// probed on every port and compared with netpol matrix, and a breaking
// change found by netpol diff, confirmed on packets and rolled back.
func TestDemo(t *testing.T) {
	skipUnlessCapable(t, "conntrack")
	tAll := time.Now()
	var timings []string
	step := func(name string, t0 time.Time) { timings = append(timings, fmt.Sprintf("%s %v", name, since(t0))) }

	t0 := time.Now()
	kubeconfig := startKube(t)
	step("kube-up", t0)

	dir := t.TempDir()
	t0 = time.Now()
	enforcer, agent := labBinaries(t)
	n := &netpolRunner{bin: buildNetpol(t, dir), kubeconfig: kubeconfig, dir: dir}
	step("build", t0)

	// The bundled demo, exactly as netpol ships it.
	n.ok(t, "demo", "--export-story", filepath.Join(dir, "story"))
	s := loadStory(t, filepath.Join(dir, "story"))
	podsFile, natFile := s.writeFiles(t, dir)

	t0 = time.Now()
	labDir := filepath.Join(dir, "lab")
	env := append(os.Environ(), "LAB_DIR="+labDir, "KUBECONFIG="+kubeconfig, "LAB_ENFORCER="+enforcer, "LAB_AGENT="+agent,
		"LAB_PODS_FILE="+podsFile, "LAB_NAT_FILE="+natFile, "LAB_DNS="+s.dns)
	lab := func(args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{"lab.sh"}, args...)...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			err = fmt.Errorf("lab.sh %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out), err
	}
	if _, err := lab("up"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			tailLog(t, filepath.Join(labDir, "enforcer.log"), 40)
			tailLog(t, filepath.Join(labDir, "agent.log"), 20)
		}
		if keep := os.Getenv("NETPOL_LAB_KEEP"); keep != "" {
			if out, err := exec.Command("cp", "-a", dir, keep).CombinedOutput(); err != nil {
				t.Errorf("keeping %s in %s: %v\n%s", dir, keep, err, out)
			}
		}
		if _, err := lab("down"); err != nil {
			t.Error(err)
		}
	})
	step(fmt.Sprintf("lab-up(%d endpoints)", len(s.endpoints)), t0)
	netns, node := labNamespaces(t, labDir)
	log := filepath.Join(labDir, "enforcer.log")

	t0 = time.Now()
	client := newClient(t, kubeconfig)
	for pod, rv := range s.create(t, client) {
		waitSeen(t, log, "Pod", pod, rv)
	}
	step(fmt.Sprintf("cluster(%d objects)", len(s.objects)), t0)
	// The cluster's manifests as a repository would hold them, for diff.
	cluster := n.ok(t, "snapshot", "-o", "yaml")

	// 1-2. The application's calls, learned from the node's conntrack table.
	t0 = time.Now()
	state := filepath.Join(dir, "demo.state")
	learnStderr := learn(t, n, node, state, func() {
		if out, err := lab("traffic", "demo/traffic.txt", "3"); err != nil {
			t.Fatalf("the demo's calls failed before any policy:\n%s%v", out, err)
		}
	})
	step("traffic+learn", t0)
	t.Logf("learn: %s", strings.TrimSpace(learnStderr))
	edges := graphEdges(t, n, state)
	if d := diffLists(demoEdges, edges); d != "" {
		t.Fatalf("learned connections (-want +got):\n%s", d)
	}

	// 3. Generate, then apply in stages.
	t0 = time.Now()
	gen, report := filepath.Join(dir, "generated"), filepath.Join(dir, "report.txt")
	_, genStderr, code := n.run(t, "generate", "--state", state, "-n", demoNamespaces, "--lock-idle", "--out-dir", gen, "--report", report)
	if code != 0 {
		t.Fatalf("netpol generate: exit %d\n%s", code, genStderr)
	}
	step("generate", t0)
	t.Logf("generate: %s", strings.TrimSpace(genStderr))
	t0 = time.Now()
	// The calls keep going while the stages roll out: no stage may break
	// one (allow rules come before deny-only ones, namespace by namespace).
	var applyOut string
	var count int
	rounds, failures := callsDuring(t, lab, func() {
		applyOut = n.ok(t, "apply", "-f", gen, "-A", "--stage", "--wait", "500ms", "--backup", filepath.Join(dir, "before-apply.json"))
		count = waitPolicies(t, client, log, node)
	})
	for _, f := range failures {
		t.Errorf("a call failed during the staged apply, %s", f)
	}
	step(fmt.Sprintf("apply --stage(%d policies, seen by the enforcer; %d rounds of calls meanwhile, %d failed)", count, rounds, len(failures)), t0)
	t.Logf("apply:\n%s", applyOut)

	// 4. Every observed call still works; every pair on every port in play
	// is probed and equals netpol matrix on the live cluster exactly.
	if out, err := lab("traffic", "demo/traffic.txt"); err != nil {
		t.Errorf("the demo's calls fail under the generated policies:\n%s%v", out, err)
	}
	t0 = time.Now()
	applied := measure(t, agent, netns, log, s)
	step(fmt.Sprintf("probe(%d connections)", len(applied)), t0)
	t0 = time.Now()
	compare(t, "generated policies", applied, netpolMatrix(t, n, s))
	step("netpol-matrix", t0)
	checkObserved(t, s, applied, edges)
	lines, total := applied.allowed()
	t.Logf("probe matrix under the generated policies: %d of %d connections allowed (all others dropped):\n%s", len(lines), total, applied.table(s))

	// 5. A breaking change: payments stops admitting the shop.
	head := filepath.Join(dir, "head")
	if copyPolicies(t, gen, head, dropIngressFrom("payments", "payments-api", "shop")) != 1 {
		t.Fatal("the generated policies have no payments/payments-api policy with an ingress rule from shop")
	}
	repoBase, repoHead := filepath.Join(dir, "repo-base"), filepath.Join(dir, "repo-head")
	for side, policies := range map[string]string{repoBase: gen, repoHead: head} {
		copyPolicies(t, policies, side, func(*networkingv1.NetworkPolicy) bool { return false })
		if err := os.WriteFile(filepath.Join(side, "cluster.yaml"), []byte(cluster), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t0 = time.Now()
	out, stderr, code := n.run(t, "diff", repoBase, repoHead, "--state", state, "--fail-on=breakage", "-o", "json")
	step("diff", t0)
	if code != 3 {
		t.Fatalf("netpol diff --fail-on=breakage: exit %d, want 3 (observed traffic breaks)\n%s%s", code, out, stderr)
	}
	breakages := diffBreakages(t, out)
	if want := []string{"shop/cart -> payments/payments-api TCP/8443"}; !slices.Equal(breakages, want) {
		t.Errorf("netpol diff breakages: got %q, want %q", breakages, want)
	}
	text, _, _ := n.run(t, "diff", repoBase, repoHead, "--state", state)
	t.Logf("netpol diff:\n%s", text)

	t0 = time.Now()
	n.ok(t, "apply", "-f", head, "-A", "--backup", filepath.Join(dir, "before-change.json"))
	waitPolicies(t, client, log, node)
	step("apply-change", t0)
	out, err := lab("traffic", "demo/traffic.txt")
	if err == nil {
		t.Errorf("the demo's calls all succeed after the breaking change:\n%s", out)
	}
	var failed []string
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "FAIL" {
			failed = append(failed, f[0]+" "+f[2])
		}
	}
	wantFailed := []string{}
	for _, e := range s.endpoints {
		if e.workload == "shop/cart" {
			wantFailed = append(wantFailed, e.id+" payments-api.payments.svc.cluster.local:443")
		}
	}
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("calls failing after the breaking change: got %q, want %q\n%s", failed, wantFailed, out)
	}
	changed := measure(t, agent, netns, log, s)
	compare(t, "after the breaking change", changed, netpolMatrix(t, n, s))
	var lost []string
	for c, ok := range applied {
		if ok && !changed[c] {
			lost = append(lost, c.String())
		}
		if !ok && changed[c] {
			t.Errorf("the breaking change lets %v through", c)
		}
	}
	slices.Sort(lost)
	t.Logf("connections the breaking change drops on packets: %q", lost)
	for _, l := range lost {
		if !strings.Contains(l, " -> payments/payments-api-") || !strings.HasPrefix(l, "shop/cart-") || !strings.HasSuffix(l, " TCP/8443") {
			t.Errorf("the breaking change also drops %s", l)
		}
	}
	if len(lost) != len(wantFailed) {
		t.Errorf("the breaking change drops %d connections on packets, want %d (each cart pod to payments-api on TCP/8443)", len(lost), len(wantFailed))
	}

	// ... and netpol rollback restores it.
	t0 = time.Now()
	n.ok(t, "rollback", "--backup", filepath.Join(dir, "before-change.json"))
	waitPolicies(t, client, log, node)
	step("rollback", t0)
	if out, err := lab("traffic", "demo/traffic.txt"); err != nil {
		t.Errorf("the demo's calls fail after the rollback:\n%s%v", out, err)
	}
	compare(t, "after the rollback (against the first measurement)", measure(t, agent, netns, log, s), applied)

	step("total", tAll)
	t.Logf("timings: %s", strings.Join(timings, ", "))
	if path := os.Getenv("NETPOL_LAB_REPORT"); path != "" {
		report := fmt.Sprintf("timings: %s\n\nlearned connections:\n%s\n\nprobe matrix under the generated policies (%d of %d allowed; ports in play %v):\n%s\nbreaking change drops: %q\n",
			strings.Join(timings, ", "), strings.Join(edges, "\n"), len(lines), total, s.probes, applied.table(s), lost)
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// callsDuring makes the demo's calls round after round while fn runs, and
// returns how many rounds ran and the failures. It stops the calls even
// when fn stops the test.
func callsDuring(t *testing.T, lab func(...string) (string, error), fn func()) (rounds int, failures []string) {
	t.Helper()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			rounds++
			if out, err := lab("traffic", "demo/traffic.txt"); err != nil {
				failures = append(failures, fmt.Sprintf("round %d:\n%s%v", rounds, out, err))
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	fn()
	return // the deferred wait settles rounds and failures
}

// tailLog logs the last lines of a log file of the lab.
func tailLog(t *testing.T, path string, lines int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s: %v", path, err)
		return
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	t.Logf("last lines of %s:\n%s", path, strings.Join(all[max(0, len(all)-lines):], "\n"))
}

// labNamespaces reads the network namespace of each endpoint and the
// node's from the lab's state.
func labNamespaces(t *testing.T, labDir string) (map[string]string, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labDir, "pods"))
	if err != nil {
		t.Fatal(err)
	}
	netns := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		netns[f[0]] = f[2]
	}
	b, err = os.ReadFile(filepath.Join(labDir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "LAB_NODE="); ok {
			return netns, v
		}
	}
	t.Fatal("the lab's state names no node")
	return nil, ""
}

// learn runs netpol learn on the node's conntrack table while traffic
// runs, stops it with SIGINT as a user would, and returns its summary.
func learn(t *testing.T, n *netpolRunner, node, state string, traffic func()) string {
	t.Helper()
	cmd := exec.Command(n.bin, "learn", "--conntrack", "--conntrack-netns", node, "--interval", "200ms",
		"--checkpoint", "500ms", "--state", state)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+n.kubeconfig)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// If the test stops early (traffic failing calls t.Fatal), learn must
	// not outlive it.
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			return fmt.Errorf("netpol learn did not stop within 10s of SIGINT")
		}
	}
	// The first checkpoint means the cluster is read and dumps run.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(state); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("netpol learn exited: %v\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = stop()
			t.Fatalf("netpol learn wrote no state within 15s\n%s", stderr.String())
		}
	}
	traffic()
	time.Sleep(600 * time.Millisecond) // at least two more dumps
	if err := stop(); err != nil {
		t.Fatalf("netpol learn: %v\n%s", err, stderr.String())
	}
	return stderr.String()
}

// graphEdges is `netpol graph -o json` as sorted "from -> to PROTO/PORT"
// lines.
func graphEdges(t *testing.T, n *netpolRunner, state string) []string {
	t.Helper()
	var g struct {
		Edges []struct {
			From, To string
			Ports    []struct {
				Protocol string
				Port     int
			}
		}
	}
	if err := json.Unmarshal([]byte(n.ok(t, "graph", "--state", state, "-o", "json")), &g); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range g.Edges {
		for _, p := range e.Ports {
			out = append(out, fmt.Sprintf("%s -> %s %s/%d", e.From, e.To, p.Protocol, p.Port))
		}
	}
	slices.Sort(out)
	return out
}

// diffBreakages is the breakages of `netpol diff -o json` as sorted lines.
func diffBreakages(t *testing.T, out string) []string {
	t.Helper()
	var d struct {
		Breakages []struct {
			From, To, Protocol string
			Port               int
		}
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("netpol diff -o json: %v\n%s", err, out)
	}
	var lines []string
	for _, b := range d.Breakages {
		lines = append(lines, fmt.Sprintf("%s -> %s %s/%d", b.From, b.To, b.Protocol, b.Port))
	}
	slices.Sort(lines)
	return lines
}

// diffLists renders the lines only in want (-) and only in got (+).
func diffLists(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			fmt.Fprintf(&b, "-%s\n", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			fmt.Fprintf(&b, "+%s\n", g)
		}
	}
	return b.String()
}

// checkObserved checks the measured matrix against what was observed:
// a connection is allowed exactly when its workloads were seen talking on
// that port, or when it is DNS (TCP or UDP 53) from a pod of a namespace
// with traffic to the cluster DNS pods, which generate allows on purpose.
func checkObserved(t *testing.T, s *story, m matrix, edges []string) {
	t.Helper()
	byID := map[string]endpoint{}
	for _, e := range s.endpoints {
		byID[e.id] = e
	}
	var bad []string
	for c, allowed := range m {
		from, to := byID[c.from], byID[c.to]
		observed := slices.Contains(edges, fmt.Sprintf("%s -> %s %v", from.workload, to.workload, c.probe))
		dns := to.dnsPod && c.probe.port == 53 && from.pod != nil && from.pod.Namespace != "reports"
		if want := observed || dns; allowed != want {
			bad = append(bad, fmt.Sprintf("%v: %s, but observed=%v dns=%v", c, verdict(allowed), observed, dns))
		}
	}
	slices.Sort(bad)
	for _, b := range bad {
		t.Errorf("against the observed traffic: %s", b)
	}
}
