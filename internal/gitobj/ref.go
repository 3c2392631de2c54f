package gitobj

import (
	"fmt"
	"path"
	"strings"
)

// Prefix starts an argument that names a Git revision's file or directory
// rather than a path of the file system.
const Prefix = "git:"

// Ref is a file or a directory of a Git revision: "git:REV:PATH". The zero
// Ref is not valid.
type Ref struct {
	// Rev is a revision as git rev-parse reads it: a branch, a tag, a
	// commit, origin/main, HEAD~1. It has no ":".
	Rev string
	// Path is slash-separated and relative to the root of the repository,
	// cleaned ("deploy", not "./deploy/"); "" is the whole tree.
	Path string
}

// String returns "git:REV:PATH", which ParseRef reads back.
func (r Ref) String() string { return Prefix + r.Rev + ":" + r.Path }

// Name returns how the file at path rel under r (rel "" for r itself) is
// named in messages: "git:REV:PATH/rel".
func (r Ref) Name(rel string) string {
	switch {
	case rel == "":
		return r.String()
	case r.Path == "":
		return Prefix + r.Rev + ":" + rel
	}
	return Prefix + r.Rev + ":" + r.Path + "/" + rel
}

// ParseRef reads "git:REV:PATH". It reports ok false, and no error, when s
// does not start with "git:": s is then a path of the file system. REV ends
// at the first ":" after the prefix; PATH is relative to the root of the
// repository, as in git show REV:PATH, and may be empty or left out
// ("git:main" is the whole tree of main). A trailing "/" and "./" are
// cleaned away.
func ParseRef(s string) (ref Ref, ok bool, err error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Ref{}, false, nil
	}
	rev, p, _ := strings.Cut(rest, ":")
	fail := func(format string, args ...any) (Ref, bool, error) {
		return Ref{}, true, fmt.Errorf("%q: "+format, append([]any{s}, args...)...)
	}
	switch {
	case rev == "":
		return fail("no revision: want git:REV:PATH, such as git:origin/main:deploy/")
	case strings.HasPrefix(rev, "-"):
		return fail("revision %q starts with \"-\"", rev)
	case control(rev):
		return fail("revision has a control character")
	case control(p):
		return fail("path has a control character")
	case strings.HasPrefix(p, "/"):
		return fail("path %q is absolute: give it relative to the root of the repository", p)
	}
	clean := path.Clean("/" + p)[1:] // rooted, so ".." cannot climb above the root
	if p != "" && cleanClimbs(p) {
		return fail("path %q leaves the repository", p)
	}
	return Ref{Rev: rev, Path: clean}, true, nil
}

// cleanClimbs reports whether the relative path p climbs above its root.
func cleanClimbs(p string) bool {
	c := path.Clean(p)
	return c == ".." || strings.HasPrefix(c, "../")
}

// control reports whether s holds a byte that git's line protocols or a
// terminal would misread.
func control(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
