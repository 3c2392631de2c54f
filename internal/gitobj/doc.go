// Package gitobj is the Git edge of netpol: it reads manifests from a
// revision of the Git repository the command runs in, straight from the
// repository's objects, without a checkout, so that a pull request's base
// (git:origin/main:deploy/) can be compared with its working tree.
//
// What it owns: the git:REV:PATH syntax (ParseRef) and running the git
// command (git rev-parse, git cat-file, git ls-tree) through os/exec.
// Invariants: it never writes to the repository or its working tree; a
// revision never reaches git as an option (it may not start with "-"); every
// failure names the reference and says what is missing (the git command, the
// repository, the revision, the path). It may import the standard library
// only.
package gitobj
