package conntrack

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/netpol/netpol"
)

// maxLine bounds one line of a dump file; longer lines are rejected.
const maxLine = 64 << 10

// stdinName names standard input in positions ("stdin:3: ...").
const stdinName = "stdin"

// NewFileSource returns a source that reads conntrack dump files in the
// text format of `conntrack -L [-o extended,id,ktimestamp]` or
// /proc/net/nf_conntrack (see parseLine) and emits the same flows as the
// live source would. A connection listed several times (dumps appended to
// one file) is emitted once and counted in Stats().Skipped["duplicate"].
// A line of another protocol is counted in Skipped under the protocol's
// name each time: its tuples are not read, so it is not tracked.
//
// Malformed lines are counted in Stats().Rejected with their position
// ("dump.txt:12: ...") and skipped, or end Run with that error when
// opts.Strict is set. A truncated file (a cut last line, a cut gzip stream)
// yields every flow before the cut. Run returns ctx.Err() when ctx is done
// before the files are read.
func NewFileSource(opts FileOptions) netpol.FlowSource {
	return &fileSource{opts: opts}
}

// fileSource is the dump-file source.
type fileSource struct {
	opts  FileOptions
	stats counter
}

// Stats returns what the source has read so far; it may be called while Run
// runs.
func (s *fileSource) Stats() netpol.SourceStats { return s.stats.snapshot() }

// Run reads the files in order.
func (s *fileSource) Run(ctx context.Context, emit func(*netpol.Flow) error) error {
	cf := &connFlows{tr: newTracker(), stats: &s.stats, node: s.opts.Node, repeat: "duplicate", emit: emit}
	for _, p := range s.opts.Paths {
		if err := s.readPath(ctx, p, cf); err != nil {
			return err
		}
	}
	return nil
}

// readPath opens one path ("-" is stdin; ".gz" is decompressed) and reads
// it.
func (s *fileSource) readPath(ctx context.Context, path string, cf *connFlows) error {
	name, t := path, s.opts.Time
	var r io.Reader
	if path == "-" {
		if s.opts.Stdin == nil {
			return errors.New(`reading conntrack dump "-": no standard input`)
		}
		name, r = stdinName, s.opts.Stdin
		if t.IsZero() {
			t = time.Now()
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("opening conntrack dump: %w", err)
		}
		defer f.Close()
		if t.IsZero() {
			fi, err := f.Stat()
			if err != nil {
				return fmt.Errorf("opening conntrack dump: %w", err)
			}
			t = fi.ModTime()
		}
		r = f
	}
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%s: reading gzip header: %w", name, err)
		}
		defer gz.Close()
		r = gz
	}
	return s.read(ctx, r, name, t, cf)
}

// dumpReader reads one dump file.
type dumpReader struct {
	src  *fileSource
	name string         // for positions: the path, or stdin
	time time.Time      // of flows without a start stamp
	loc  *time.Location // of start stamps
	cf   *connFlows
}

// read reads the lines of one dump. t is the time of flows without a start
// stamp.
func (s *fileSource) read(ctx context.Context, r io.Reader, name string, t time.Time, cf *connFlows) error {
	d := &dumpReader{src: s, name: name, time: t, loc: s.opts.Location, cf: cf}
	if d.loc == nil {
		d.loc = time.Local
	}
	br := bufio.NewReaderSize(r, maxLine)
	var buf []byte
	for n := 1; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, tooLong, rerr := readLine(br, buf[:0])
		buf = line
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return s.readError(name, n, rerr)
		}
		if len(line) == 0 && !tooLong && rerr != nil {
			return nil // EOF after the last newline
		}
		if err := d.line(string(line), n, tooLong); err != nil {
			return err
		}
		if rerr != nil {
			return nil
		}
	}
}

// line handles line n: a flow is emitted, a skipped record counted, a
// malformed line counted (or returned when strict).
func (d *dumpReader) line(line string, n int, tooLong bool) error {
	e, kind, skip, err := parseLine(line, d.loc)
	if tooLong {
		err = fmt.Errorf("line longer than %d bytes", maxLine)
	}
	st := &d.src.stats
	switch {
	case err != nil:
		if d.src.opts.Strict {
			return fmt.Errorf("%s:%d: %w", d.name, n, err)
		}
		st.reject(fmt.Sprintf("%s:%d: %v", d.name, n, err))
	case kind == lineSummary:
		st.skip("summary")
	case kind == lineOther:
		// The rest of the line is not read, so there is no connection
		// to track: each line is counted.
		st.skip(skip)
	case kind == lineFlow:
		return d.cf.entry(&e, d.time)
	}
	return nil
}

// readError handles a read failure at line n: a cut gzip stream is a
// truncated file (a problem, an error when strict), anything else an error.
func (s *fileSource) readError(name string, n int, err error) error {
	if !errors.Is(err, io.ErrUnexpectedEOF) || s.opts.Strict {
		return fmt.Errorf("%s:%d: reading: %w", name, n, err)
	}
	s.stats.reject(fmt.Sprintf("%s:%d: truncated: %v", name, n, err))
	return nil
}

// readLine appends the next line of br, without its newline, to buf. A line
// longer than maxLine is consumed but not kept (tooLong). err is io.EOF at
// the end, with the last unterminated line, if any.
func readLine(br *bufio.Reader, buf []byte) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxLine+1 && !tooLong {
			buf = append(buf, chunk...)
		} else {
			tooLong, buf = true, buf[:0]
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = trimEOL(buf)
		return buf, tooLong, err
	}
}

// trimEOL removes a trailing "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
