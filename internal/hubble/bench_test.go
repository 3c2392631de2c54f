package hubble

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/netpol/netpol"
)

// sampleLines returns the lines of the real Hubble samples.
func sampleLines(tb testing.TB) [][]byte {
	tb.Helper()
	var lines [][]byte
	for _, name := range []string{"hubble-10-flows", "hubble-5-dns-flows", "hubble-5-http-flows"} {
		data, err := os.ReadFile(filepath.Join("testdata", "flows", name+".jsonl"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			lines = append(lines, l)
		}
	}
	return lines
}

// benchFileLines is the size of the file of BenchmarkFileSource.
const benchFileLines = 1_000_000

// writeSampleFile writes n lines cycling through the samples.
func writeSampleFile(tb testing.TB, path string, n int) {
	tb.Helper()
	lines := sampleLines(tb)
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		w.Write(lines[i%len(lines)])
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// decoders are the two decoders compared by the benchmarks, named for
// benchstat -col /decoder.
var decoders = []struct {
	name string
	slow bool
}{{"decoder=fast", false}, {"decoder=protojson", true}}

// BenchmarkDecode decodes one sample line per op, with the fast decoder
// and with protojson alone. flows/cpu-s counts flows per second of the
// process's CPU time, which a busy machine does not change much;
// fallbacks/op is the share of lines the fast decoder left to protojson.
func BenchmarkDecode(b *testing.B) {
	lines := sampleLines(b)
	for _, bc := range decoders {
		b.Run(bc.name, func(b *testing.B) {
			d := &decoder{slow: bc.slow}
			var f netpol.Flow
			var bytes int64
			b.ReportAllocs()
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				line := lines[i%len(lines)]
				bytes += int64(len(line))
				if _, err := d.decode(line, &f); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(bytes / int64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
			if used := cpuTime() - cpu; used > 0 {
				b.ReportMetric(float64(b.N)/used.Seconds(), "flows/cpu-s")
			}
			b.ReportMetric(float64(d.fallbacks)/float64(b.N), "fallbacks/op")
		})
	}
}

// benchFile is the 1,000,000-line file, written once per test binary
// and removed by TestMain.
var benchFile struct {
	once sync.Once
	dir  string
	path string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFile.dir != "" {
		os.RemoveAll(benchFile.dir)
	}
	os.Exit(code)
}

// BenchmarkFileSource reads a 1,000,000-line file built from the samples
// through NewFileSource (one op = the whole file), with the fast decoder
// and with protojson alone. flows/cpu-s counts flows per second of the
// process's CPU time, which a busy machine does not change much.
func BenchmarkFileSource(b *testing.B) {
	benchFile.once.Do(func() {
		dir, err := os.MkdirTemp("", "netpol-hubble-bench")
		if err != nil {
			b.Fatal(err)
		}
		benchFile.dir, benchFile.path = dir, filepath.Join(dir, "flows.jsonl")
		writeSampleFile(b, benchFile.path, benchFileLines)
	})
	for _, bc := range decoders {
		b.Run(bc.name, func(b *testing.B) {
			var n int64
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				src := newFileSource([]string{benchFile.path}, FileOptions{Strict: true}, bc.slow)
				err := src.Run(context.Background(), func(*netpol.Flow) error { n++; return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "flows/s")
			if used := cpuTime() - cpu; used > 0 {
				b.ReportMetric(float64(n)/used.Seconds(), "flows/cpu-s")
			}
		})
	}
}
