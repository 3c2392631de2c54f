package simulate_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// The conformance corpus is the upstream e2e NetworkPolicy suite
// (k8s.io/kubernetes v1.35.4, test/e2e/network/netpol/network_policy.go)
// transcribed as data; see testdata/conformance/README.md.
const (
	conformanceDir = "../testdata/conformance"
	// conformanceCases is the number of connectivity f.It tests upstream.
	conformanceCases = 48
	// conformanceTables is the number of ValidateOrFail calls upstream.
	conformanceTables = 65
)

// permutationSeeds drive the shuffled policy orders every step is also
// checked under.
var permutationSeeds = []uint64{1, 2, 3}

// confCase is one upstream It: steps applied cumulatively to the cluster.
type confCase struct {
	file   string
	Name   string     `json:"name"`
	Source string     `json:"source"`
	Steps  []confStep `json:"steps"`
}

// confStep is one ValidateOrFail: the changes made before it, the probes it
// runs and the truth table it expects.
type confStep struct {
	Description     string                       `json:"description"`
	Apply           []networkingv1.NetworkPolicy `json:"apply"`
	Delete          []string                     `json:"delete"`
	NamespaceLabels map[string]map[string]string `json:"namespaceLabels"`
	PodLabels       map[string]map[string]string `json:"podLabels"`
	Probes          []string                     `json:"probes"`
	Expect          *confExpect                  `json:"expect"`
}

// confExpect is a truth table as a default plus ordered exceptions; a later
// exception wins over an earlier one.
type confExpect struct {
	Default    *bool           `json:"default"`
	Exceptions []confException `json:"exceptions"`
}

// confException sets the expectation of every pair it matches. From and To
// are "*", "ns/*" or "ns/name".
type confException struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Allowed *bool  `json:"allowed"`
}

// pair is an ordered pair of pods by ID.
type pair struct{ from, to string }

// verdict is one evaluated connection, as compared across policy orders.
type verdict struct {
	Probe, From, To          string
	Verdict, Egress, Ingress string
}

func TestConformance(t *testing.T) {
	cluster, err := loadCluster(filepath.Join(conformanceDir, "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases, tables int
	for _, f := range files {
		if filepath.Base(f) == "cluster.yaml" {
			continue
		}
		c, err := loadCase(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		cases++
		tables += len(c.Steps)
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			runCase(t, cluster, c)
		})
	}
	if cases != conformanceCases || tables != conformanceTables {
		t.Errorf("corpus has %d cases and %d truth tables, want %d and %d",
			cases, tables, conformanceCases, conformanceTables)
	}
}

// runCase applies the steps of c one after the other to a copy of cluster
// and checks each in its own subtest.
func runCase(t *testing.T, cluster *netpol.Snapshot, c *confCase) {
	s := cloneSnapshot(cluster)
	for i := range c.Steps {
		st := &c.Steps[i]
		if err := st.applyTo(s); err != nil {
			t.Fatalf("%s: step %d: %v", c.file, i+1, err)
		}
		snap := cloneSnapshot(s)
		t.Run(fmt.Sprintf("step%d", i+1), func(t *testing.T) {
			checkStep(t, c, i, snap)
		})
	}
}

// checkStep compiles snap, compares every probe and ordered pair of distinct
// pods with the step's truth table, then checks that no order of the
// policies changes any verdict.
func checkStep(t *testing.T, c *confCase, i int, snap *netpol.Snapshot) {
	st := &c.Steps[i]
	where := fmt.Sprintf("%s step %d (%s)", c.file, i+1, st.Description)
	probes, err := parseProbes(st.Probes)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	pods := podIDs(snap)
	want, err := st.Expect.table(pods)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	eng, err := compile(snap)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	ids, err := lookup(eng, pods)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for _, p := range probes {
		for a, src := range pods {
			for b, dst := range pods {
				if a == b {
					continue // e2e ignores loopback
				}
				got := eng.Evaluate(ids[a], ids[b], p).Verdict == simulate.Allowed
				if w := want[pair{src, dst}]; got != w {
					ex := eng.Explain(ids[a], ids[b], p)
					t.Errorf("%s: %s %s -> %s: allowed = %t, want %t\n%s",
						where, p, src, dst, got, w, ex.String())
				}
			}
		}
	}
	checkPermutations(t, where, snap, pods, probes, verdicts(eng, ids, pods, probes))
}

// checkPermutations recompiles snap with its policies reversed and shuffled
// and compares every verdict with the original order's.
func checkPermutations(t *testing.T, where string, snap *netpol.Snapshot, pods []string, probes []netpol.Probe, base []verdict) {
	n := len(snap.Policies)
	orders := map[string][]int{"reversed": reversed(n)}
	for _, seed := range permutationSeeds {
		r := rand.New(rand.NewPCG(seed, seed))
		orders[fmt.Sprintf("shuffled(seed %d)", seed)] = r.Perm(n)
	}
	for _, name := range sortedKeys(orders) {
		p := cloneSnapshot(snap)
		for i, j := range orders[name] {
			p.Policies[i] = *snap.Policies[j].DeepCopy()
		}
		eng, err := compile(p)
		if err != nil {
			t.Errorf("%s: %s policy order: %v", where, name, err)
			continue
		}
		ids, err := lookup(eng, pods)
		if err != nil {
			t.Errorf("%s: %s policy order: %v", where, name, err)
			continue
		}
		if diff := cmp.Diff(base, verdicts(eng, ids, pods, probes)); diff != "" {
			t.Errorf("%s: %s policy order changes verdicts (-original +permuted):\n%s", where, name, diff)
		}
	}
}

// compile compiles s with the default options and checks that compiling
// left the snapshot's policies as written.
func compile(s *netpol.Snapshot) (*simulate.Engine, error) {
	before := cloneSnapshot(s)
	eng, err := simulate.Compile(s, simulate.Options{})
	if err != nil {
		return nil, fmt.Errorf("compiling: %w", err)
	}
	if diff := cmp.Diff(before.Policies, s.Policies); diff != "" {
		return nil, fmt.Errorf("compiling changed the snapshot's policies (-before +after):\n%s", diff)
	}
	return eng, nil
}

func verdicts(eng *simulate.Engine, ids []simulate.EndpointID, pods []string, probes []netpol.Probe) []verdict {
	var out []verdict
	for _, p := range probes {
		for a := range pods {
			for b := range pods {
				if a == b {
					continue
				}
				r := eng.Evaluate(ids[a], ids[b], p)
				out = append(out, verdict{
					Probe: p.String(), From: pods[a], To: pods[b],
					Verdict: r.Verdict.String(), Egress: r.Egress.Verdict.String(), Ingress: r.Ingress.Verdict.String(),
				})
			}
		}
	}
	return out
}

func lookup(eng *simulate.Engine, pods []string) ([]simulate.EndpointID, error) {
	ids := make([]simulate.EndpointID, len(pods))
	for i, p := range pods {
		id, ok := eng.Lookup(p)
		if !ok {
			return nil, fmt.Errorf("engine has no endpoint %q", p)
		}
		ids[i] = id
	}
	return ids, nil
}

// applyTo makes the step's changes to s: deletions, then namespace and pod
// relabelling, then policies created or replaced by namespace/name.
func (st *confStep) applyTo(s *netpol.Snapshot) error {
	for _, ref := range st.Delete {
		i := slices.IndexFunc(s.Policies, func(p networkingv1.NetworkPolicy) bool { return p.Namespace+"/"+p.Name == ref })
		if i < 0 {
			return fmt.Errorf("deleting policy %q: not found", ref)
		}
		s.Policies = slices.Delete(s.Policies, i, i+1)
	}
	for _, ns := range sortedKeys(st.NamespaceLabels) {
		i := slices.IndexFunc(s.Namespaces, func(n corev1.Namespace) bool { return n.Name == ns })
		if i < 0 {
			return fmt.Errorf("relabelling namespace %q: not found", ns)
		}
		s.Namespaces[i].Labels = st.NamespaceLabels[ns]
	}
	for _, ref := range sortedKeys(st.PodLabels) {
		i := slices.IndexFunc(s.Pods, func(p corev1.Pod) bool { return p.Namespace+"/"+p.Name == ref })
		if i < 0 {
			return fmt.Errorf("relabelling pod %q: not found", ref)
		}
		s.Pods[i].Labels = st.PodLabels[ref]
	}
	for _, np := range st.Apply {
		if np.Name == "" || np.Namespace == "" {
			return fmt.Errorf("applying policy %q: namespace and name are required", np.Namespace+"/"+np.Name)
		}
		i := slices.IndexFunc(s.Policies, func(p networkingv1.NetworkPolicy) bool {
			return p.Namespace == np.Namespace && p.Name == np.Name
		})
		if i < 0 {
			s.Policies = append(s.Policies, *np.DeepCopy())
		} else {
			s.Policies[i] = *np.DeepCopy()
		}
	}
	return nil
}

// table expands the expectation over every ordered pair of pods. An
// exception that matches no pair is an error (a typo in the data).
func (x *confExpect) table(pods []string) (map[pair]bool, error) {
	if x == nil || x.Default == nil {
		return nil, errors.New("expect.default is required")
	}
	out := make(map[pair]bool, len(pods)*len(pods))
	for _, a := range pods {
		for _, b := range pods {
			out[pair{a, b}] = *x.Default
		}
	}
	for i, e := range x.Exceptions {
		if e.Allowed == nil {
			return nil, fmt.Errorf("expect.exceptions[%d].allowed is required", i)
		}
		n := 0
		for _, a := range pods {
			for _, b := range pods {
				if matchPod(e.From, a) && matchPod(e.To, b) {
					out[pair{a, b}] = *e.Allowed
					n++
				}
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("expect.exceptions[%d] (%q -> %q) matches no pair of pods", i, e.From, e.To)
		}
	}
	return out, nil
}

// matchPod reports whether pattern ("*", "ns/*" or "ns/name") matches the
// pod ID "ns/name".
func matchPod(pattern, id string) bool {
	if pattern == "*" || pattern == id {
		return true
	}
	ns, ok := strings.CutSuffix(pattern, "/*")
	return ok && strings.HasPrefix(id, ns+"/")
}

func parseProbes(in []string) ([]netpol.Probe, error) {
	if len(in) == 0 {
		return nil, errors.New("a step needs at least one probe")
	}
	out := make([]netpol.Probe, len(in))
	for i, s := range in {
		p, err := netpol.ParseProbe(s)
		if err != nil {
			return nil, fmt.Errorf("probes[%d]: %w", i, err)
		}
		out[i] = p
	}
	return out, nil
}

func podIDs(s *netpol.Snapshot) []string {
	out := make([]string, len(s.Pods))
	for i, p := range s.Pods {
		out[i] = p.Namespace + "/" + p.Name
	}
	slices.Sort(out)
	return out
}

func loadCase(path string) (*confCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &confCase{file: filepath.Base(path)}
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if c.Name == "" || c.Source == "" || len(c.Steps) == 0 {
		return nil, fmt.Errorf("decoding %s: name, source and steps are required", path)
	}
	return c, nil
}

// loadCluster decodes the multi-document cluster manifest into a snapshot;
// it holds Namespaces and Pods only.
func loadCluster(path string) (*netpol.Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &netpol.Snapshot{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 0; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if err := decodeObject(doc, s); err != nil {
			return nil, fmt.Errorf("decoding %s document %d: %w", path, n, err)
		}
	}
	return s, nil
}

func decodeObject(doc []byte, s *netpol.Snapshot) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	switch tm.Kind {
	case "":
		if len(bytes.TrimSpace(stripComments(doc))) != 0 {
			return errors.New("object without kind")
		}
		return nil
	case "Namespace":
		var o corev1.Namespace
		err := yaml.UnmarshalStrict(doc, &o)
		s.Namespaces = append(s.Namespaces, o)
		return err
	case "Pod":
		var o corev1.Pod
		err := yaml.UnmarshalStrict(doc, &o)
		s.Pods = append(s.Pods, o)
		return err
	case "NetworkPolicy":
		var o networkingv1.NetworkPolicy
		err := yaml.UnmarshalStrict(doc, &o)
		s.Policies = append(s.Policies, o)
		return err
	}
	return fmt.Errorf("unexpected kind %q", tm.Kind)
}

func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

func cloneSnapshot(s *netpol.Snapshot) *netpol.Snapshot {
	c := &netpol.Snapshot{}
	for _, n := range s.Namespaces {
		c.Namespaces = append(c.Namespaces, *n.DeepCopy())
	}
	for _, p := range s.Pods {
		c.Pods = append(c.Pods, *p.DeepCopy())
	}
	for _, p := range s.Policies {
		c.Policies = append(c.Policies, *p.DeepCopy())
	}
	return c
}

func reversed(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - 1 - i
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
