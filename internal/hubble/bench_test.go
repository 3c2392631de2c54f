package hubble

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
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

// BenchmarkDecode decodes one sample line per op, with the fast decoder
// and with protojson alone.
func BenchmarkDecode(b *testing.B) {
	lines := sampleLines(b)
	for _, bc := range []struct {
		name string
		slow bool
	}{{"fast", false}, {"protojson", true}} {
		b.Run(bc.name, func(b *testing.B) {
			d := &decoder{slow: bc.slow}
			var f netpol.Flow
			var bytes int64
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				line := lines[i%len(lines)]
				bytes += int64(len(line))
				if _, err := d.decode(line, &f); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(bytes / int64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
		})
	}
}

// BenchmarkFileSource reads a 1,000,000-line file built from the samples
// through NewFileSource (one op = the whole file), with the fast decoder
// and with protojson alone.
func BenchmarkFileSource(b *testing.B) {
	path := filepath.Join(b.TempDir(), "flows.jsonl")
	writeSampleFile(b, path, benchFileLines)
	for _, bc := range []struct {
		name string
		slow bool
	}{{"fast", false}, {"protojson", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var n int64
			b.ReportAllocs()
			for b.Loop() {
				src := newFileSource([]string{path}, FileOptions{Strict: true}, bc.slow)
				err := src.Run(context.Background(), func(*netpol.Flow) error { n++; return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "flows/s")
		})
	}
}
