package gitobj

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// File is a file read from a Git tree.
type File struct {
	// Name is the file's name in messages: "git:REV:PATH/rel" (Ref.Name).
	Name string
	Data []byte
}

// Repo reads the objects of the Git repository that holds Dir, with the
// git command. The zero Repo reads the repository of the current
// directory.
type Repo struct {
	// Dir is the directory git runs in; "" is the current directory.
	Dir string
}

// Read returns the file ref names, or every file under the directory ref
// names (recursively, in the tree's order) whose path relative to it keep
// accepts; keep nil accepts all. Symbolic links and submodules are skipped.
// It never touches the working tree.
func (r Repo) Read(ctx context.Context, ref Ref, keep func(rel string) bool) ([]File, error) {
	files, err := r.read(ctx, ref, keep)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	return files, nil
}

func (r Repo) read(ctx context.Context, ref Ref, keep func(string) bool) ([]File, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("the git command is not installed")
	}
	if _, err := r.git(ctx, nil, "rev-parse", "--git-dir"); err != nil {
		if strings.Contains(err.Error(), "not a git repository") {
			return nil, errors.New("not in a git repository")
		}
		return nil, err
	}
	out, err := r.git(ctx, nil, "rev-parse", "--verify", "--quiet", ref.Rev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("no revision %q in the repository (a shallow clone or a branch not fetched? fetch it first)", ref.Rev)
	}
	object := strings.TrimSpace(string(out)) + ":" + ref.Path
	out, err = r.git(ctx, nil, "cat-file", "-t", object)
	if err != nil {
		return nil, fmt.Errorf("no file or directory %q in revision %q", ref.Path, ref.Rev)
	}
	switch kind := strings.TrimSpace(string(out)); kind {
	case "blob":
		data, err := r.git(ctx, nil, "cat-file", "blob", object)
		if err != nil {
			return nil, err
		}
		return []File{{Name: ref.Name(""), Data: data}}, nil
	case "tree":
		return r.tree(ctx, ref, object, keep)
	default:
		return nil, fmt.Errorf("%q is a %s, not a file or directory", ref.Path, kind)
	}
}

// entry is a blob of a tree listing.
type entry struct{ oid, path string }

// tree reads the blobs under the tree object that keep accepts.
func (r Repo) tree(ctx context.Context, ref Ref, object string, keep func(string) bool) ([]File, error) {
	out, err := r.git(ctx, nil, "ls-tree", "-r", "-z", object)
	if err != nil {
		return nil, err
	}
	entries, err := parseTree(out)
	if err != nil {
		return nil, err
	}
	var want []entry
	var in bytes.Buffer
	for _, e := range entries {
		if keep == nil || keep(e.path) {
			want = append(want, e)
			in.WriteString(e.oid + "\n")
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	out, err = r.git(ctx, &in, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	return parseBatch(out, ref, want)
}

// parseTree reads the output of git ls-tree -r -z: "MODE TYPE OID\tPATH\0"
// per entry. It keeps the regular files (mode 100644 and 100755).
func parseTree(out []byte) ([]entry, error) {
	var entries []entry
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		head, p, ok := bytes.Cut(rec, []byte{'\t'})
		fields := strings.Fields(string(head))
		if !ok || len(fields) != 3 {
			return nil, fmt.Errorf("unexpected git ls-tree output %q", rec)
		}
		if fields[1] == "blob" && (fields[0] == "100644" || fields[0] == "100755") {
			entries = append(entries, entry{oid: fields[2], path: string(p)})
		}
	}
	return entries, nil
}

// parseBatch reads the output of git cat-file --batch for the entries, in
// order: "OID TYPE SIZE\n" then SIZE bytes and "\n" per object.
func parseBatch(out []byte, ref Ref, entries []entry) ([]File, error) {
	br := bufio.NewReader(bytes.NewReader(out))
	files := make([]File, 0, len(entries))
	for _, e := range entries {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %w", err)
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != e.oid || f[1] != "blob" {
			return nil, fmt.Errorf("git cat-file --batch: unexpected header %q for %s", strings.TrimSpace(line), e.path)
		}
		size, err := strconv.Atoi(f[2])
		if err != nil || size < 0 {
			return nil, fmt.Errorf("git cat-file --batch: bad size in %q", strings.TrimSpace(line))
		}
		data := make([]byte, size+1)
		if _, err := io.ReadFull(br, data); err != nil {
			return nil, fmt.Errorf("git cat-file --batch: %s: %w", e.path, err)
		}
		files = append(files, File{Name: ref.Name(e.path), Data: data[:size]})
	}
	return files, nil
}

// git runs git with args in r.Dir, feeding it stdin, and returns its
// standard output. An error carries the first line of git's standard error.
func (r Repo) git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Dir
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if msg != "" {
			return nil, fmt.Errorf("git %s: %s", args[0], msg)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}
