package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/netpol/netpol"
)

// StdinName is how problems in standard input name their file.
const StdinName = "<stdin>"

// Loader reads manifests into a snapshot. The zero value reads files and
// directories, puts objects without a namespace in "default", and rejects
// "-".
type Loader struct {
	// DefaultNamespace is the namespace of namespaced objects that set none
	// (kubectl's -n); "" means "default".
	DefaultNamespace string
	// Stdin is read for the path "-"; nil makes "-" an error.
	Stdin io.Reader
}

// Report says what a load read. Its lists are sorted by kind; Warnings are
// in input order.
type Report struct {
	// Files are the files read, in order; standard input is StdinName.
	Files []string
	// Loaded counts the objects read into the snapshot, by kind.
	Loaded []KindCount
	// Skipped counts the objects of kinds netpol does not read, by kind, as
	// "Kind" for the core group and "Kind.group" otherwise.
	Skipped []KindCount
	// Warnings are problems that do not stop the load:
	// "file:line: object: field: message".
	Warnings []string
	// Origins says where each object of the snapshot was read; nil when
	// nothing was.
	Origins map[ObjectRef]Origin
}

// KindCount is a number of objects of one kind.
type KindCount struct {
	Kind  string
	Count int
}

// String summarises r on one line: "read 2 files: 1 Namespace, 3 Pod;
// skipped 1 Certificate.cert-manager.io; 1 warning".
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "read %s", plural(len(r.Files), "file"))
	counts := func(cs []KindCount) {
		for i, c := range cs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d %s", c.Count, c.Kind)
		}
	}
	if len(r.Loaded) > 0 {
		b.WriteString(": ")
		counts(r.Loaded)
	}
	if len(r.Skipped) > 0 {
		b.WriteString("; skipped ")
		counts(r.Skipped)
	}
	if len(r.Warnings) > 0 {
		b.WriteString("; " + plural(len(r.Warnings), "warning"))
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Error is one problem of the input. Load returns them joined with
// errors.Join, in input order.
type Error struct {
	File   string // the file as named, or StdinName
	Line   int    // 1-based; 0 when unknown
	Object string // "NetworkPolicy shop/allow-web"; "" when not known
	Err    error  // a *simulate.FieldError for a field, or a decoding error
}

// Error returns "file:line: object: problem", leaving out what is unknown.
func (e *Error) Error() string {
	return locate(e.File, e.Line, e.Object) + e.Err.Error()
}

// Unwrap returns the problem.
func (e *Error) Unwrap() error { return e.Err }

// locate returns the "file:line: object: " prefix of a message.
func locate(file string, line int, object string) string {
	s := file
	if line > 0 {
		s += ":" + strconv.Itoa(line)
	}
	s += ": "
	if object != "" {
		s += object + ": "
	}
	return s
}

// Load reads the objects of every path into a snapshot. A path is a file
// (any name), a directory (walked recursively in lexical order, reading the
// files named *.yaml, *.yml and *.json) or "-" for l.Stdin; a file named
// twice is read once. The report is never nil. On any problem the snapshot
// is nil and the error joins one *Error per problem.
func (l *Loader) Load(paths []string) (*netpol.Snapshot, *Report, error) {
	ld := newLoad(l)
	seen := map[string]bool{}
	for _, p := range paths {
		files, err := l.expand(p)
		if err != nil {
			ld.fail(&Error{File: p, Err: err})
			continue
		}
		for _, f := range files {
			key := f
			if abs, err := filepath.Abs(f); err == nil && f != "-" {
				key = abs
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			ld.readFile(f)
		}
	}
	return ld.finish()
}

// Decode reads the objects of one stream, named name in messages, like
// Load reads a file.
func (l *Loader) Decode(name string, r io.Reader) (*netpol.Snapshot, *Report, error) {
	ld := newLoad(l)
	data, err := io.ReadAll(r)
	if err != nil {
		ld.fail(&Error{File: name, Err: err})
	} else {
		ld.report.Files = append(ld.report.Files, name)
		ld.stream(name, data)
	}
	return ld.finish()
}

// File is a manifest file held in memory, such as one read from a Git tree.
type File struct {
	// Name is how problems name the file.
	Name string
	Data []byte
}

// LoadFiles reads the objects of files, in order, into one snapshot as
// Load reads the files of a directory.
func (l *Loader) LoadFiles(files []File) (*netpol.Snapshot, *Report, error) {
	ld := newLoad(l)
	for _, f := range files {
		ld.report.Files = append(ld.report.Files, f.Name)
		ld.stream(f.Name, f.Data)
	}
	return ld.finish()
}

// DirectoryFile reports whether a directory walk reads the file of this
// name: its extension is .yaml, .yml or .json.
func DirectoryFile(name string) bool {
	return slices.Contains([]string{".yaml", ".yml", ".json"}, filepath.Ext(name))
}

// expand returns the files a path stands for.
func (l *Loader) expand(p string) ([]string, error) {
	if p == "-" {
		if l.Stdin == nil {
			return nil, errors.New("standard input is not available")
		}
		return []string{p}, nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && DirectoryFile(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no .yaml, .yml or .json files in directory")
	}
	return files, nil
}

// readFile reads one file, or standard input for "-".
func (ld *load) readFile(f string) {
	name := f
	var data []byte
	var err error
	if f == "-" {
		name = StdinName
		data, err = io.ReadAll(ld.loader.Stdin)
	} else {
		data, err = os.ReadFile(f)
	}
	if err != nil {
		ld.fail(&Error{File: name, Err: err})
		return
	}
	ld.report.Files = append(ld.report.Files, name)
	ld.stream(name, data)
}
