package gitobj

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newRepo makes a repository with two commits on main: the first holds
// deploy/a.yaml, deploy/sub/b.yml, deploy/notes.txt and a symbolic link;
// the second changes a.yaml and adds deploy/c.json.
func newRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_AUTHOR_NAME", "t")
	t.Setenv("GIT_AUTHOR_EMAIL", "t@example.com")
	t.Setenv("GIT_COMMITTER_NAME", "t")
	t.Setenv("GIT_COMMITTER_EMAIL", "t@example.com")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q", "-b", "main")
	write("deploy/a.yaml", "a: 1\n")
	write("deploy/sub/b.yml", "b: 1\n")
	write("deploy/notes.txt", "notes\n")
	if err := os.Symlink("a.yaml", filepath.Join(dir, "deploy", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "first")
	write("deploy/a.yaml", "a: 2\n")
	write("deploy/c.json", "{}\n")
	git("add", ".")
	git("commit", "-q", "-m", "second")
	return dir
}

func TestRead(t *testing.T) {
	dir := newRepo(t)
	yaml := func(p string) bool {
		return strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")
	}
	for _, tc := range []struct {
		ref     string
		keep    func(string) bool
		want    []File
		wantErr string
	}{
		{"git:main~1:deploy/", yaml, []File{{"git:main~1:deploy/a.yaml", []byte("a: 1\n")}, {"git:main~1:deploy/sub/b.yml", []byte("b: 1\n")}}, ""},
		{"git:main:deploy", yaml, []File{{"git:main:deploy/a.yaml", []byte("a: 2\n")}, {"git:main:deploy/c.json", []byte("{}\n")}, {"git:main:deploy/sub/b.yml", []byte("b: 1\n")}}, ""},
		{"git:main:deploy/sub", nil, []File{{"git:main:deploy/sub/b.yml", []byte("b: 1\n")}}, ""},
		{"git:HEAD:deploy/notes.txt", yaml, []File{{"git:HEAD:deploy/notes.txt", []byte("notes\n")}}, ""},
		{"git:main", func(p string) bool { return p == "deploy/c.json" }, []File{{"git:main:deploy/c.json", []byte("{}\n")}}, ""},
		{"git:main:deploy/sub", func(string) bool { return false }, nil, ""},
		{"git:nosuch:deploy", nil, nil, `reading git:nosuch:deploy: no revision "nosuch" in the repository`},
		{"git:main~1:deploy/c.json", nil, nil, `reading git:main~1:deploy/c.json: no file or directory "deploy/c.json" in revision "main~1"`},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			ref, _, err := ParseRef(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Repo{Dir: dir}.Read(context.Background(), ref, tc.keep)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("Read = %v, want error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Read (-want +got):\n%s", d)
			}
		})
	}
}

func TestReadOutsideRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	_, err := Repo{Dir: dir}.Read(context.Background(), Ref{Rev: "main", Path: "deploy"}, nil)
	if want := "reading git:main:deploy: not in a git repository"; err == nil || err.Error() != want {
		t.Errorf("Read = %v, want %q", err, want)
	}
}

func TestReadWithoutGit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Repo{}.Read(context.Background(), Ref{Rev: "main"}, nil)
	if want := "reading git:main:: the git command is not installed"; err == nil || err.Error() != want {
		t.Errorf("Read = %v, want %q", err, want)
	}
}

func TestParseTree(t *testing.T) {
	out := []byte("100644 blob aaa\ta.yaml\x00120000 blob bbb\tlink.yaml\x00160000 commit ccc\tsub\x00100755 blob ddd\tx y.yaml\x00")
	got, err := parseTree(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{{"aaa", "a.yaml"}, {"ddd", "x y.yaml"}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(entry{})); d != "" {
		t.Errorf("parseTree (-want +got):\n%s", d)
	}
	if _, err := parseTree([]byte("garbage\x00")); err == nil {
		t.Error("parseTree(garbage) = nil error")
	}
}
