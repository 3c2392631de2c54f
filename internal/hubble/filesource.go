package hubble

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/netpol/netpol"
)

// FileOptions configures NewFileSource. The zero value reads leniently and
// has no standard input.
type FileOptions struct {
	// Strict makes the first malformed line an error naming the file and
	// line, instead of a counted and reported problem.
	Strict bool
	// Stdin is read for the path "-". When nil, "-" is an error.
	Stdin io.Reader
}

// maxLine bounds one line; longer lines are rejected.
const maxLine = 16 << 20

// ctxCheckEvery is how many lines pass between checks of the context.
const ctxCheckEvery = 256

// NewFileSource returns the file twin of the Relay source: it reads the
// files in paths in order, "-" being opts.Stdin. Each line is one record
// of `hubble observe -o json` or `-o jsonpb` (a GetFlowsResponse) or of
// the legacy JSON output (a bare Flow), in either field spelling; input
// starting with the gzip magic is decompressed, whatever its name.
//
// Lost events, node status records and flows without IP addresses are
// counted in Stats().Skipped and skipped; blank lines are ignored. A
// malformed line is counted in Rejected, with "file:line: message" in
// Problems, and skipped (with Strict, it ends Run with that error). A file
// cut short, mid-line or inside a gzip stream, yields every flow before
// the cut; the cut is one rejected record. A file that cannot be opened is
// an error.
//
// Labels maps of the emitted flows are shared between flows of the same
// identity: treat them as read-only.
func NewFileSource(paths []string, opts FileOptions) netpol.FlowSource {
	return newFileSource(paths, opts, false)
}

// newFileSource is NewFileSource; slow makes it decode with protojson only.
func newFileSource(paths []string, opts FileOptions, slow bool) *fileSource {
	return &fileSource{paths: append([]string(nil), paths...), opts: opts, slow: slow}
}

// fileSource implements NewFileSource.
type fileSource struct {
	paths []string
	opts  FileOptions
	slow  bool
	c     counters
}

// Stats returns what was read so far; it may be called during Run.
func (s *fileSource) Stats() netpol.SourceStats { return s.c.stats() }

// Run reads every file in turn and calls emit for each flow. It returns
// the first error of emit, a file that cannot be opened, ctx's error, or
// with Strict the first malformed line.
func (s *fileSource) Run(ctx context.Context, emit func(*netpol.Flow) error) error {
	d := &decoder{slow: s.slow}
	var f netpol.Flow
	for _, p := range s.paths {
		if err := s.runPath(ctx, p, d, &f, emit); err != nil {
			return err
		}
	}
	return nil
}

// runPath opens one path and reads it.
func (s *fileSource) runPath(ctx context.Context, path string, d *decoder, f *netpol.Flow, emit func(*netpol.Flow) error) error {
	name, r := path, io.Reader(nil)
	if path == "-" {
		if s.opts.Stdin == nil {
			return errors.New("reading hubble flows from stdin: no standard input")
		}
		name, r = "stdin", s.opts.Stdin
	} else {
		file, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("reading hubble flows: %w", err)
		}
		defer file.Close()
		r = file
	}
	br := bufio.NewReaderSize(r, 256<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return s.problem(fmt.Sprintf("%s:1: reading gzip: %v", name, err))
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 256<<10)
	}
	lr := lineReader{r: br}
	return s.readLines(ctx, name, &lr, d, f, emit)
}

// readLines decodes every line of lr.
func (s *fileSource) readLines(ctx context.Context, name string, lr *lineReader, d *decoder, f *netpol.Flow, emit func(*netpol.Flow) error) error {
	for n := 1; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, readErr := lr.next()
		switch {
		case readErr == errLineTooLong:
			if err := s.problem(fmt.Sprintf("%s:%d: line longer than %d bytes", name, n, maxLine)); err != nil {
				return err
			}
			continue
		case readErr == io.EOF && line == nil:
			return nil
		case readErr != nil && readErr != io.EOF:
			// Cut short: the bytes before the cut are a record only if
			// they decode; the cut itself is one rejected record.
			if len(line) > 0 {
				bad, err := s.record(line, d, f, emit)
				if err != nil {
					return err
				}
				if bad == nil {
					n++ // a whole record before the cut
				}
			}
			return s.problem(fmt.Sprintf("%s:%d: input cut short: %v", name, n, readErr))
		}
		bad, err := s.record(line, d, f, emit)
		if err != nil {
			return err
		}
		if bad != nil {
			if err := s.problem(fmt.Sprintf("%s:%d: %v", name, n, bad)); err != nil {
				return err
			}
		}
		if readErr == io.EOF {
			return nil
		}
	}
}

// record decodes one line and emits its flow. bad says why the line is
// malformed; err is emit's error.
func (s *fileSource) record(line []byte, d *decoder, f *netpol.Flow, emit func(*netpol.Flow) error) (bad, err error) {
	kind, bad := d.decode(line, f)
	if bad != nil {
		return bad, nil
	}
	s.c.count(kind)
	if kind == recFlow {
		return nil, emit(f)
	}
	return nil, nil
}

// problem records a malformed record; with Strict it is the returned error.
func (s *fileSource) problem(msg string) error {
	s.c.reject(msg)
	if s.opts.Strict {
		return errors.New(msg)
	}
	return nil
}

// errLineTooLong reports a line longer than maxLine (skipped).
var errLineTooLong = errors.New("line too long")

// lineReader splits a stream into lines of at most maxLine bytes.
type lineReader struct {
	r    *bufio.Reader
	long []byte
}

// next returns the next line without its "\n" (or "\r\n"). At the end it
// returns the last, unterminated line (if any) with io.EOF; on a read
// error, the bytes read before it with the error. A too long line is
// skipped and reported with errLineTooLong.
func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		line, err = lr.slowNext(line)
	}
	if err == nil {
		line = line[:len(line)-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		return line, nil
	}
	if len(line) == 0 {
		return nil, err
	}
	return line, err
}

// slowNext accumulates a line longer than the buffer.
func (lr *lineReader) slowNext(first []byte) ([]byte, error) {
	lr.long = append(lr.long[:0], first...)
	for {
		part, err := lr.r.ReadSlice('\n')
		if len(lr.long)+len(part) > maxLine {
			for err == bufio.ErrBufferFull {
				_, err = lr.r.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			return nil, errLineTooLong
		}
		lr.long = append(lr.long, part...)
		if err != bufio.ErrBufferFull {
			return lr.long, err
		}
	}
}
