package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/simulate"
)

// TestLoad reads each input and compares the report, warnings, problems
// and snapshot with testdata/golden/<name>.golden.
func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name   string
		paths  []string
		ns     string // Loader.DefaultNamespace
		stdin  string // a file fed to standard input; "" for none
		errors bool   // whether problems are expected
	}{
		{name: "directory", paths: []string{"testdata/cluster"}},
		{name: "stdin", paths: []string{"-"}, stdin: "testdata/stdin/input.yaml", ns: "shop"},
		{name: "list", paths: []string{"testdata/list/list.yaml"}},
		{name: "multidoc", paths: []string{"testdata/multidoc/multi.yaml"}},
		{name: "json-stream", paths: []string{"testdata/stream/objects.json", "testdata/stream/bom.json"}},
		{name: "file-named-twice", paths: []string{"testdata/stream/bom.json", "testdata/stream", "./testdata/stream/bom.json"}},
		{name: "default-namespace", paths: []string{"testdata/defaultns/objects.yaml"}, ns: "team"},
		{name: "default-namespace-default", paths: []string{"testdata/defaultns/objects.yaml"}},
		{name: "bad-policies", paths: []string{"testdata/badpolicy/policies.yaml"}, errors: true},
		{name: "bad-objects", paths: []string{"testdata/badobjects/objects.yaml"}, errors: true},
		{name: "yaml11", paths: []string{"testdata/yaml11/traps.yaml"}, errors: true},
		{name: "duplicates", paths: []string{"testdata/dup"}, errors: true},
		{name: "malformed", paths: []string{"testdata/malformed"}, errors: true},
		{name: "missing", paths: []string{"testdata/none.yaml", "-", "testdata/list/list.yaml"}, errors: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Loader{DefaultNamespace: tc.ns}
			if tc.stdin != "" {
				f, err := os.Open(tc.stdin)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				l.Stdin = f
			}
			snap, report, err := l.Load(tc.paths)
			if (err != nil) != tc.errors {
				t.Errorf("Load() error = %v, want errors: %v", err, tc.errors)
			}
			checkErrors(t, snap, err)
			netpoltest.Golden(t, filepath.Join("testdata", "golden", tc.name+".golden"), []byte(render(snap, report, err)))
		})
	}
}

// checkErrors checks the contract of Load's results: a snapshot exactly
// when there is no problem, and every problem an *Error.
func checkErrors(t *testing.T, snap *netpol.Snapshot, err error) {
	t.Helper()
	if (snap == nil) == (err == nil) {
		t.Fatalf("snapshot %v with error %v: want exactly one", snap != nil, err)
	}
	if err == nil {
		return
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not join problems", err)
	}
	for _, e := range joined.Unwrap() {
		var le *Error
		if !errors.As(e, &le) {
			t.Errorf("problem %T is not an *Error: %v", e, e)
		}
	}
}

func TestEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kind: Pod"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, report, err := (&Loader{}).Load([]string{dir})
	want := dir + ": no .yaml, .yml or .json files in directory"
	if err == nil || err.Error() != want {
		t.Errorf("Load(empty dir) = %v, want %s", err, want)
	}
	if report == nil || len(report.Files) != 0 {
		t.Errorf("report = %+v, want no files", report)
	}
}

func TestDecode(t *testing.T) {
	snap, report, err := (&Loader{DefaultNamespace: "x"}).Decode("in.yaml", strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(report); got != "read 1 file: 1 Pod" {
		t.Errorf("report = %q", got)
	}
	if len(snap.Pods) != 1 || snap.Pods[0].Namespace != "x" {
		t.Errorf("pods = %+v, want x/a", snap.Pods)
	}
}

// TestFieldErrors checks that a policy problem unwraps to the
// simulate.FieldError with its field path.
func TestFieldErrors(t *testing.T) {
	_, _, err := (&Loader{}).Load([]string{"testdata/badpolicy/policies.yaml"})
	var fe *simulate.FieldError
	if !errors.As(err, &fe) || fe.Field != "metadata.labels[-bad]" {
		t.Errorf("errors.As(*simulate.FieldError) = %+v", fe)
	}
	var le *Error
	if !errors.As(err, &le) || le.File != "testdata/badpolicy/policies.yaml" || le.Line != 7 || le.Object != "NetworkPolicy shop/allow-web" {
		t.Errorf("errors.As(*Error) = %+v", le)
	}
}

func TestReportString(t *testing.T) {
	for _, tc := range []struct {
		r    Report
		want string
	}{
		{Report{}, "read 0 files"},
		{Report{Files: []string{"a"}, Loaded: []KindCount{{"Namespace", 1}, {"Pod", 3}}}, "read 1 file: 1 Namespace, 3 Pod"},
		{Report{Files: []string{"a", "b"}, Skipped: []KindCount{{"Certificate.cert-manager.io", 2}}, Warnings: []string{"w"}},
			"read 2 files; skipped 2 Certificate.cert-manager.io; 1 warning"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// render writes everything a load returns as stable text.
func render(snap *netpol.Snapshot, r *Report, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "== report\n%s\n", r)
	for _, f := range r.Files {
		fmt.Fprintf(&b, "file %s\n", f)
	}
	fmt.Fprintf(&b, "== warnings\n")
	for _, w := range r.Warnings {
		fmt.Fprintln(&b, w)
	}
	fmt.Fprintf(&b, "== errors\n")
	if err != nil {
		fmt.Fprintln(&b, err)
	}
	fmt.Fprintf(&b, "== snapshot\n")
	if snap != nil {
		renderSnapshot(&b, snap)
	}
	return b.String()
}

func renderSnapshot(b *strings.Builder, s *netpol.Snapshot) {
	for _, n := range s.Namespaces {
		fmt.Fprintf(b, "Namespace %s ns=%q labels=%s\n", n.Name, n.Namespace, labels.Set(n.Labels))
	}
	for _, n := range s.Nodes {
		fmt.Fprintf(b, "Node %s ns=%q\n", n.Name, n.Namespace)
	}
	for _, p := range s.Pods {
		fmt.Fprintf(b, "Pod %s/%s labels=%s ips=%v ports=%v\n", p.Namespace, p.Name, labels.Set(p.Labels), netpol.PodIPs(&p), netpol.ContainerPorts(&p.Spec))
	}
	for _, v := range s.Services {
		fmt.Fprintf(b, "Service %s/%s selector=%s\n", v.Namespace, v.Name, labels.Set(v.Spec.Selector))
	}
	for _, e := range s.EndpointSlices {
		fmt.Fprintf(b, "EndpointSlice %s/%s endpoints=%d\n", e.Namespace, e.Name, len(e.Endpoints))
	}
	for _, w := range s.Workloads {
		sel, _ := json.Marshal(w.Selector)
		fmt.Fprintf(b, "%s %s/%s selector=%s template=%s owners=%d\n", w.Kind, w.Namespace, w.Name, sel, labels.Set(w.Template.Labels), len(w.OwnerReferences))
	}
	for _, p := range s.Policies {
		spec, _ := json.Marshal(p.Spec)
		fmt.Fprintf(b, "NetworkPolicy %s/%s %s\n", p.Namespace, p.Name, spec)
	}
}

func TestLoadFiles(t *testing.T) {
	files := []File{
		{Name: "git:main:deploy/ns.yaml", Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")},
		{Name: "git:main:deploy/pod.yaml", Data: []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n")},
	}
	snap, report, err := (&Loader{}).LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	if got := report.String(); got != "read 2 files: 1 Namespace, 1 Pod" {
		t.Errorf("report = %q", got)
	}
	if len(snap.Pods) != 1 || len(snap.Namespaces) != 1 {
		t.Errorf("snapshot = %+v", snap)
	}
	dup := append(files, File{Name: "git:main:deploy/again.yaml", Data: files[1].Data})
	if _, _, err := (&Loader{}).LoadFiles(dup); err == nil || !strings.Contains(err.Error(), "git:main:deploy/again.yaml:") {
		t.Errorf("LoadFiles(duplicate) = %v, want an error naming the file", err)
	}
}

func TestDirectoryFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{{"a.yaml", true}, {"d/a.yml", true}, {"a.json", true}, {"a.YAML", false}, {"a.txt", false}, {"yaml", false}, {"a.yaml.bak", false}} {
		if got := DirectoryFile(tc.name); got != tc.want {
			t.Errorf("DirectoryFile(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
