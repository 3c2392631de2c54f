package conntrack

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/netpol/netpol"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// dumpTime is the time given to flows of test dumps without a start stamp.
var dumpTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// flowLine renders a flow on one line for goldens and comparisons.
func flowLine(f *netpol.Flow) string {
	return fmt.Sprintf("%s %s %s -> %s %s reply=%s node=%s", f.Time.UTC().Format(time.RFC3339), f.Protocol,
		netip.AddrPortFrom(f.Source.IP, f.Source.Port), netip.AddrPortFrom(f.Destination.IP, f.Destination.Port),
		f.Verdict, [...]string{"unknown", "yes", "no"}[f.Reply], f.Node)
}

// statsLines renders stats deterministically.
func statsLines(s netpol.SourceStats) []string {
	out := []string{fmt.Sprintf("flows=%d rejected=%d", s.Flows, s.Rejected)}
	var kinds []string
	for k, n := range s.Skipped {
		kinds = append(kinds, fmt.Sprintf("skipped %s=%d", k, n))
	}
	slices.Sort(kinds)
	out = append(out, kinds...)
	for _, p := range s.Problems {
		out = append(out, "problem "+p)
	}
	return out
}

// collect runs src to the end and returns its flows rendered, and its error.
func collect(t *testing.T, src netpol.FlowSource) ([]string, error) {
	t.Helper()
	var got []string
	err := src.Run(context.Background(), func(f *netpol.Flow) error {
		got = append(got, flowLine(f))
		return nil
	})
	return got, err
}

func TestFileSourceGolden(t *testing.T) {
	src := NewFileSource(FileOptions{Paths: []string{"testdata/node.conntrack"}, Time: dumpTime, Location: time.UTC, Node: "node-1"})
	flows, err := collect(t, src)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(append(flows, statsLines(src.Stats())...), "\n") + "\n"
	golden := "testdata/node.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

// writeFile writes data to name in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// gz compresses data.
func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	lineA = "ipv4     2 tcp      6 59 CLOSE_WAIT src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=8080 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=40000 [ASSURED] mark=0 use=1"
	lineB = "ipv4     2 udp      17 29 src=10.0.0.1 dst=10.96.0.10 sport=41926 dport=53 src=10.0.0.3 dst=10.0.0.1 sport=5353 dport=41926 mark=0 use=1"
	flowA = "2026-11-26T12:00:00Z TCP 10.0.0.1:40000 -> 10.0.0.2:8080 forwarded reply=no node="
	flowB = "2026-11-26T12:00:00Z UDP 10.0.0.1:41926 -> 10.0.0.3:5353 forwarded reply=no node="
)

func TestFileSource(t *testing.T) {
	dir := t.TempDir()
	plain := []byte(lineA + "\n" + lineB + "\n")
	big := bytes.Repeat([]byte(lineA+"\n"), 4000) // one connection listed 4000 times
	bigGz := gz(t, big)
	cutGz := bigGz[:len(bigGz)*3/4]
	cutAt := cutLine(t, cutGz)
	paths := map[string]string{
		"plain":     writeFile(t, dir, "plain.conntrack", plain),
		"crlf":      writeFile(t, dir, "crlf.conntrack", []byte(lineA+"\r\n"+lineB)),
		"gz":        writeFile(t, dir, "plain.conntrack.gz", gz(t, plain)),
		"cutgz":     writeFile(t, dir, "cut.conntrack.gz", cutGz),
		"notgz":     writeFile(t, dir, "not.conntrack.gz", plain),
		"bad":       writeFile(t, dir, "bad.conntrack", []byte(lineA+"\nnot a line\n"+lineB+"\n")),
		"cut":       writeFile(t, dir, "cut.conntrack", []byte(lineA+"\n"+lineB[:strings.Index(lineB, " dport=41926 mark")])),
		"long":      writeFile(t, dir, "long.conntrack", []byte(strings.Repeat("x", maxLine+10)+"\n"+lineB+"\n")),
		"duplicate": writeFile(t, dir, "dup.conntrack", []byte(lineA+"\n"+lineA+"\n"+lineB+"\n")),
	}
	tests := []struct {
		name      string
		opts      FileOptions
		want      []string
		wantStats []string
		wantErr   string
	}{
		{name: "plain", opts: FileOptions{Paths: []string{paths["plain"]}}, want: []string{flowA, flowB}, wantStats: []string{"flows=2 rejected=0"}},
		{name: "crlf and no final newline", opts: FileOptions{Paths: []string{paths["crlf"]}}, want: []string{flowA, flowB}, wantStats: []string{"flows=2 rejected=0"}},
		{name: "gzip", opts: FileOptions{Paths: []string{paths["gz"]}}, want: []string{flowA, flowB}, wantStats: []string{"flows=2 rejected=0"}},
		{name: "stdin", opts: FileOptions{Paths: []string{"-"}, Stdin: bytes.NewReader(plain)}, want: []string{flowA, flowB}, wantStats: []string{"flows=2 rejected=0"}},
		{name: "two files, repeats once", opts: FileOptions{Paths: []string{paths["plain"], paths["gz"]}}, want: []string{flowA, flowB},
			wantStats: []string{"flows=2 rejected=0", "skipped duplicate=2"}},
		{name: "duplicates in a file", opts: FileOptions{Paths: []string{paths["duplicate"]}}, want: []string{flowA, flowB},
			wantStats: []string{"flows=2 rejected=0", "skipped duplicate=1"}},
		{name: "malformed line counted", opts: FileOptions{Paths: []string{paths["bad"]}}, want: []string{flowA, flowB},
			wantStats: []string{"flows=2 rejected=1", "problem " + paths["bad"] + `:2: protocol number "a": want 0 to 255`}},
		{name: "malformed line strict", opts: FileOptions{Paths: []string{paths["bad"]}, Strict: true}, want: []string{flowA},
			wantErr: paths["bad"] + `:2: protocol number "a": want 0 to 255`},
		{name: "cut last line", opts: FileOptions{Paths: []string{paths["cut"]}}, want: []string{flowA},
			wantStats: []string{"flows=1 rejected=1", "problem " + paths["cut"] + ":2: reply tuple has no dport="}},
		{name: "cut gzip", opts: FileOptions{Paths: []string{paths["cutgz"]}}, want: []string{flowA},
			wantStats: []string{"flows=1 rejected=1", fmt.Sprintf("skipped duplicate=%d", cutAt-2), fmt.Sprintf("problem %s:%d: truncated: unexpected EOF", paths["cutgz"], cutAt)}},
		{name: "cut gzip strict", opts: FileOptions{Paths: []string{paths["cutgz"]}, Strict: true}, want: []string{flowA},
			wantErr: fmt.Sprintf("%s:%d: reading: unexpected EOF", paths["cutgz"], cutAt)},
		{name: "long line", opts: FileOptions{Paths: []string{paths["long"]}}, want: []string{flowB},
			wantStats: []string{"flows=1 rejected=1", fmt.Sprintf("problem %s:1: line longer than %d bytes", paths["long"], maxLine)}},
		{name: "not gzip", opts: FileOptions{Paths: []string{paths["notgz"]}}, wantErr: "not.conntrack.gz: reading gzip header: gzip: invalid header"},
		{name: "missing file", opts: FileOptions{Paths: []string{filepath.Join(dir, "nope")}}, wantErr: "opening conntrack dump: open " + filepath.Join(dir, "nope")},
		{name: "stdin without reader", opts: FileOptions{Paths: []string{"-"}}, wantErr: `reading conntrack dump "-": no standard input`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Time.IsZero() {
				tc.opts.Time = dumpTime
			}
			src := NewFileSource(tc.opts)
			got, err := collect(t, src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
			if tc.wantErr != "" {
				return
			}
			if diff := cmp.Diff(tc.wantStats, statsLines(src.Stats())); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileSourceTimeDefaultsToModTime(t *testing.T) {
	p := writeFile(t, t.TempDir(), "d.conntrack", []byte(lineA+"\n"))
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	var got time.Time
	err := NewFileSource(FileOptions{Paths: []string{p}}).Run(context.Background(), func(f *netpol.Flow) error {
		got = f.Time
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(mtime) {
		t.Errorf("flow time = %v, want the modification time %v", got, mtime)
	}
}

func TestFileSourceStops(t *testing.T) {
	var lines bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&lines, "tcp 6 5 src=10.0.0.1 dst=10.0.0.2 sport=%d dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=%d\n", i+1, i+1)
	}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		cancel  bool
		emitErr error
		want    error
		maxSeen int
	}{
		{name: "emit error is returned", emitErr: boom, want: boom, maxSeen: 1},
		{name: "cancelled context", cancel: true, want: context.Canceled, maxSeen: 1024},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			seen := 0
			src := NewFileSource(FileOptions{Paths: []string{"-"}, Stdin: bytes.NewReader(lines.Bytes()), Time: dumpTime})
			err := src.Run(ctx, func(*netpol.Flow) error {
				seen++
				if tc.cancel {
					cancel()
				}
				return tc.emitErr
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if seen > tc.maxSeen {
				t.Errorf("emit called %d times after stopping, want at most %d", seen, tc.maxSeen)
			}
		})
	}
}

// FuzzFileSource checks that no file content makes the source panic, that
// each problem names its position, and that strict mode fails exactly when
// lines are rejected.
func FuzzFileSource(f *testing.F) {
	seed, err := os.ReadFile("testdata/node.conntrack")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(lineA + "\nbad\n" + lineB))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		lax := NewFileSource(FileOptions{Paths: []string{"-"}, Stdin: bytes.NewReader(data), Time: dumpTime, Location: time.UTC})
		if err := lax.Run(context.Background(), func(*netpol.Flow) error { return nil }); err != nil {
			t.Fatalf("lax run: %v", err)
		}
		st := lax.Stats()
		for _, p := range st.Problems {
			if !strings.HasPrefix(p, stdinName+":") {
				t.Fatalf("problem %q does not start with its position", p)
			}
		}
		strict := NewFileSource(FileOptions{Paths: []string{"-"}, Stdin: bytes.NewReader(data), Time: dumpTime, Location: time.UTC, Strict: true})
		err := strict.Run(context.Background(), func(*netpol.Flow) error { return nil })
		if (err != nil) != (st.Rejected > 0) {
			t.Fatalf("strict error %v with %d rejected lines", err, st.Rejected)
		}
		if err != nil && !strings.HasPrefix(err.Error(), stdinName+":") {
			t.Fatalf("strict error %q does not start with its position", err)
		}
	})
}

// cutLine returns the line number at which reading the cut gzip stream b
// fails.
func cutLine(t *testing.T, b []byte) int {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the cut stream: %v, want unexpected EOF", err)
	}
	return bytes.Count(data, []byte("\n")) + 1
}
