package hubble

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol"
)

// readAll runs a file source and returns its flows, stats and error.
func readAll(t *testing.T, paths []string, opts FileOptions) ([]netpol.Flow, netpol.SourceStats, error) {
	t.Helper()
	src := NewFileSource(paths, opts)
	var flows []netpol.Flow
	err := src.Run(context.Background(), func(f *netpol.Flow) error {
		flows = append(flows, *f)
		return nil
	})
	return flows, src.Stats(), err
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const samplePath = "testdata/flows/hubble-10-flows.jsonl"

func TestFileSourceGzipAndStdin(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := readAll(t, []string{samplePath}, FileOptions{})
	if err != nil || len(want) != 10 {
		t.Fatalf("plain: %d flows, %v", len(want), err)
	}
	gz := gzipBytes(t, data)
	crlf := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	for _, tc := range []struct {
		name  string
		path  string
		stdin []byte
	}{
		{"gz file", writeFile(t, "flows.jsonl.gz", gz), nil},
		{"gzip without .gz", writeFile(t, "flows.json", gz), nil},
		{"stdin", "-", data},
		{"gzip stdin", "-", gz},
		{"CRLF", writeFile(t, "crlf.jsonl", crlf), nil},
		{"no final newline", writeFile(t, "nonl.jsonl", bytes.TrimSuffix(data, []byte("\n"))), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st, err := readAll(t, []string{tc.path}, FileOptions{Strict: true, Stdin: bytes.NewReader(tc.stdin)})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
			if st.Flows != 10 || st.Rejected != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestFileSourceTruncatedGzip(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	all, _, _ := readAll(t, []string{samplePath}, FileOptions{})
	gz := gzipBytes(t, data)
	path := writeFile(t, "cut.jsonl.gz", gz[:len(gz)*2/3])
	got, st, err := readAll(t, []string{path}, FileOptions{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(got) == 0 || len(got) >= len(all) {
		t.Fatalf("%d flows from the cut file, want some of %d", len(got), len(all))
	}
	if diff := cmp.Diff(all[:len(got)], got, cmpAddr); diff != "" {
		t.Errorf("flows before the cut (-want +got):\n%s", diff)
	}
	if st.Rejected != 1 || len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "input cut short: unexpected EOF") {
		t.Errorf("stats = %+v, want one problem for the cut", st)
	}
	_, _, err = readAll(t, []string{path}, FileOptions{Strict: true})
	if err == nil || !strings.Contains(err.Error(), "cut.jsonl.gz:") {
		t.Errorf("strict Run = %v, want the cut as an error naming the file", err)
	}
}

func TestFileSourceStrict(t *testing.T) {
	flows, st, err := readAll(t, []string{"testdata/flows/malformed.jsonl"}, FileOptions{Strict: true})
	want := "testdata/flows/malformed.jsonl:2: decoding hubble record: proto:"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Run = %v, want an error starting %q", err, want)
	}
	if len(flows) != 1 || st.Rejected != 1 {
		t.Errorf("%d flows and %d rejected before the error, want 1 and 1", len(flows), st.Rejected)
	}
}

func TestFileSourceErrors(t *testing.T) {
	_, _, err := readAll(t, []string{filepath.Join(t.TempDir(), "missing.jsonl")}, FileOptions{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: Run = %v, want fs.ErrNotExist", err)
	}
	_, _, err = readAll(t, []string{"-"}, FileOptions{})
	if err == nil || !strings.Contains(err.Error(), "no standard input") {
		t.Errorf("stdin without Stdin: Run = %v", err)
	}
	stop := errors.New("stop")
	err = NewFileSource([]string{samplePath}, FileOptions{}).Run(context.Background(), func(*netpol.Flow) error { return stop })
	if err != stop {
		t.Errorf("emit error: Run = %v, want it back", err)
	}
}

func TestFileSourceCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.jsonl")
	writeSampleFile(t, path, 10*ctxCheckEvery)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := NewFileSource([]string{path}, FileOptions{}).Run(ctx, func(*netpol.Flow) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled || n >= 10*ctxCheckEvery {
		t.Errorf("Run = %v after %d flows, want context.Canceled early", err, n)
	}
}

func TestFileSourceManyFiles(t *testing.T) {
	garbage := strings.Repeat("not json\n", maxProblems+20)
	bad := writeFile(t, "bad.jsonl", []byte(garbage))
	long := writeFile(t, "long.jsonl", []byte(`{"flow":"`+strings.Repeat("x", maxLine)+"\"}\n"+
		`{"flow":{"IP":{"source":"10.0.0.1","destination":"10.0.0.2"},"Summary":"`+strings.Repeat("y", 1<<20)+`"}}`+"\n"))
	flows, st, err := readAll(t, []string{samplePath, long, bad, "testdata/flows/lost.jsonl"}, FileOptions{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(flows) != 10+1+2 {
		t.Errorf("%d flows, want 13", len(flows))
	}
	want := netpol.SourceStats{Flows: 13, Rejected: 1 + maxProblems + 20,
		Skipped: map[string]int64{"lost-events": 2, "node-status": 2, "non-ip": 1}}
	if diff := cmp.Diff(want, st, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Problems" }, cmp.Ignore())); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if len(st.Problems) != maxProblems || !strings.HasSuffix(st.Problems[0], "long.jsonl:1: line longer than 16777216 bytes") ||
		!strings.Contains(st.Problems[1], "bad.jsonl:1: ") {
		t.Errorf("problems = %d, first %q", len(st.Problems), st.Problems[:2])
	}
}

// TestStatsDuringRun reads Stats while Run goes on (for the race
// detector: progress displays do this).
func TestStatsDuringRun(t *testing.T) {
	src := NewFileSource([]string{"testdata/flows/malformed.jsonl", "testdata/flows/lost.jsonl", samplePath}, FileOptions{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_ = src.Stats()
		}
	}()
	if err := src.Run(context.Background(), func(*netpol.Flow) error { _ = src.Stats(); return nil }); err != nil {
		t.Fatal(err)
	}
	<-done
	if st := src.Stats(); st.Flows != 5+2+10 {
		t.Errorf("Flows = %d, want 17", st.Flows)
	}
}
