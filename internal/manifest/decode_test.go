package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yamlv2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
)

func TestSplitStream(t *testing.T) {
	type doc struct {
		Text string
		Line int
		JSON bool
	}
	for _, tc := range []struct {
		name    string
		in      string
		want    []doc
		wantErr string // "line: message"
	}{
		{"empty", "", nil, ""},
		{"one", "a: 1\n", []doc{{"a: 1\n", 1, false}}, ""},
		{"separators", "---\na: 1\n--- # c\n---\nb: 2\n", []doc{{"a: 1\n", 2, false}, {"b: 2\n", 5, false}}, ""},
		{"separator with spaces and CRLF", "a: 1\r\n---  \r\nb: 2", []doc{{"a: 1\r\n", 1, false}, {"b: 2", 3, false}}, ""},
		{"indented dashes are content", "a: |\n  ---\n", []doc{{"a: |\n  ---\n", 1, false}}, ""},
		{"bad separator", "a: 1\n--- b: 2\nc: 3\n", []doc{{"a: 1\n", 1, false}}, `2: invalid document separator "--- b: 2": only spaces or a comment may follow ---`},
		{"four dashes", "----\n", nil, `1: invalid document separator "----": only spaces or a comment may follow ---`},
		{"json stream", "\n {\"a\":1}\n{\"b\":\n2} {}", []doc{{`{"a":1}`, 2, true}, {"{\"b\":\n2}", 3, true}, {"{}", 4, true}}, ""},
		{"json syntax error", "{\"a\":1}\n{\"b\":}", []doc{{`{"a":1}`, 1, true}}, "2: invalid JSON: invalid character '}' looking for beginning of value"},
		{"bom", "\xef\xbb\xbf{}", []doc{{"{}", 1, true}}, ""},
		{"flow yaml after text is yaml", "# c\n{a: 1}", []doc{{"# c\n{a: 1}", 1, false}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, lerr := splitStream([]byte(tc.in))
			var got []doc
			for _, d := range docs {
				got = append(got, doc{string(d.data), d.line, d.json})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("documents (-want +got):\n%s", diff)
			}
			gotErr := ""
			if lerr != nil {
				gotErr = fmt.Sprintf("%d: %v", lerr.line, lerr.err)
			}
			if gotErr != tc.wantErr {
				t.Errorf("error = %q, want %q", gotErr, tc.wantErr)
			}
		})
	}
}

func TestNodeLine(t *testing.T) {
	root := parseNode([]byte("metadata:\n  name: a\n  labels:\n    app.kubernetes.io/name: x\nspec:\n  ingress:\n  - from:\n    - podSelector: {}\n    - ipBlock:\n        cidr: 10.0.0.0/33\n"))
	for _, tc := range []struct {
		path string
		want int
	}{
		{"", 1},
		{"metadata.name", 2},
		{"metadata.labels[app.kubernetes.io/name]", 4},
		{"spec.ingress[0].from[1].ipBlock.cidr", 10},
		{"spec.ingress[0].from[1].ipBlock.except[0]", 9},
		{"spec.ingress[3]", 6},
		{"spec.egress[0]", 5},
		{"spec.ingress.from", 6},
	} {
		if got := nodeLine(root, tc.path); got != tc.want {
			t.Errorf("nodeLine(%q) = %d, want %d", tc.path, got, tc.want)
		}
	}
	if got := nodeLine(nil, "a"); got != 0 {
		t.Errorf("nodeLine(nil) = %d, want 0", got)
	}
}

func TestPathSegments(t *testing.T) {
	got := pathSegments("spec.ingress[0].from[1].podSelector.matchLabels[a.b/c]")
	want := []string{"spec", "ingress", "[0]", "from", "[1]", "podSelector", "matchLabels", "[a.b/c]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pathSegments (-want +got):\n%s", diff)
	}
}

func TestScanTraps(t *testing.T) {
	doc := "metadata:\n  name: yes\n  labels: {on: x, a: 'y', b: \"n\", c: 1e3, d: ~, e: '', f: 12:30}\nspec:\n  nodeSelector: {disk: ssd, fast: Off}\n  containers: [{name: c, ports: [{containerPort: 80, name: 0b11}]}]\n"
	var got []string
	for _, tr := range scanTraps(parseNode([]byte(doc)), reflect.TypeFor[corev1.Pod]()) {
		got = append(got, fmt.Sprintf("%d %s key=%v %s %s %s", tr.line, tr.field, tr.key, tr.text, tr.kind, tr.read))
	}
	want := []string{
		"2 metadata.name key=false yes boolean true",
		"3 metadata.labels key=true on boolean true",
		"3 metadata.labels[c] key=false 1e3 number 1000",
		"5 spec.nodeSelector[fast] key=false Off boolean false",
		"6 spec.containers[0].ports[0].name key=false 0b11 integer 3",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("traps (-want +got):\n%s", diff)
	}
}

var resolveSeeds = []string{
	"y", "Y", "yes", "No", "ON", "off", "true", "FALSE", "~", "null", "", "0", "010", "0x1F", "0o17", "0b101", "-0b11",
	"1_000", "+1", "-1", "1.10", "1e3", ".5", "-.inf", ".NaN", "2024-01-02", "12:30", "1.2.3", "0777", "9223372036854775808",
	"18446744073709551616", "1e400", "+", "-", ".", "yess", "0x", "1_", "_1", "0.", "-0", "+.inf", "1__0", "0b", "1e",
}

// FuzzYAML11Resolve checks yaml11Resolve against go.yaml.in/yaml/v2, the
// parser of sigs.k8s.io/yaml, on every plain scalar.
func FuzzYAML11Resolve(f *testing.F) {
	for _, s := range resolveSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc := []byte("k: " + s + "\n")
		var n yaml.Node
		if yaml.Unmarshal(doc, &n) != nil || len(n.Content) != 1 || len(n.Content[0].Content) != 2 {
			return
		}
		v := n.Content[0].Content[1]
		if v.Kind != yaml.ScalarNode || v.Style != 0 || v.Tag == "!!merge" || v.Value != s {
			return // not a plain scalar of exactly s
		}
		var m map[string]any
		if yamlv2.Unmarshal(doc, &m) != nil {
			return
		}
		want := m["k"]
		switch w := want.(type) {
		case int:
			want = int64(w)
		}
		got := yaml11Resolve(s)
		if fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", want, want) {
			t.Fatalf("yaml11Resolve(%q) = %T %v, yaml.v2 reads %T %v", s, got, got, want, want)
		}
	})
}

// FuzzLoad feeds arbitrary streams to the decoder: it must not panic, must
// return a report, a snapshot exactly when there is no problem, and the
// same result twice.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/cluster", "testdata/malformed", "testdata/yaml11", "testdata/list", "testdata/badpolicy", "testdata/badobjects", "testdata/stream"} {
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if data, err := os.ReadFile(path); err == nil {
					f.Add(data)
				}
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := &Loader{DefaultNamespace: "fuzz"}
		snap, report, err := l.Decode("fuzz.yaml", bytes.NewReader(data))
		if report == nil || (snap == nil) == (err == nil) {
			t.Fatalf("Decode: snapshot %v, report %v, error %v", snap != nil, report != nil, err)
		}
		snap2, report2, err2 := l.Decode("fuzz.yaml", bytes.NewReader(data))
		if fmt.Sprint(err) != fmt.Sprint(err2) || report.String() != report2.String() ||
			!cmp.Equal(report.Warnings, report2.Warnings) || !reflect.DeepEqual(snap, snap2) {
			t.Fatalf("Decode is not deterministic:\n%v\n---\n%v", err, err2)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("problem without its file: %v", err)
		}
	})
}
