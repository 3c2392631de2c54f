package gitobj

import (
	"path"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Ref
		ok      bool
		wantErr string
	}{
		{"deploy/", Ref{}, false, ""},
		{"./git:x", Ref{}, false, ""},
		{"GIT:main:deploy", Ref{}, false, ""},
		{"git:origin/main:deploy/", Ref{"origin/main", "deploy"}, true, ""},
		{"git:HEAD~1:deploy/prod/app.yaml", Ref{"HEAD~1", "deploy/prod/app.yaml"}, true, ""},
		{"git:main", Ref{"main", ""}, true, ""},
		{"git:main:", Ref{"main", ""}, true, ""},
		{"git:main:.", Ref{"main", ""}, true, ""},
		{"git:main:./deploy//a/../b/", Ref{"main", "deploy/b"}, true, ""},
		{"git:v1.2.3:a:b.yaml", Ref{"v1.2.3", "a:b.yaml"}, true, ""},
		{"git:HEAD@{2 days ago}:x", Ref{"HEAD@{2 days ago}", "x"}, true, ""},
		{"git:", Ref{}, true, "no revision"},
		{"git::deploy", Ref{}, true, "no revision"},
		{"git:--output=x:deploy", Ref{}, true, `starts with "-"`},
		{"git:-h", Ref{}, true, `starts with "-"`},
		{"git:main:/etc", Ref{}, true, "is absolute"},
		{"git:main:../x", Ref{}, true, "leaves the repository"},
		{"git:main:a/../../x", Ref{}, true, "leaves the repository"},
		{"git:ma\nin:x", Ref{}, true, "control character"},
		{"git:main:x\x00y", Ref{}, true, "control character"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok, err := ParseRef(tc.in)
			if ok != tc.ok || got != tc.want || (err == nil) != (tc.wantErr == "") ||
				err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRef(%q) = %+v, %v, %v; want %+v, %v, error with %q", tc.in, got, ok, err, tc.want, tc.ok, tc.wantErr)
			}
		})
	}
}

func TestRefName(t *testing.T) {
	for _, tc := range []struct {
		ref       Ref
		rel, want string
	}{
		{Ref{"main", "deploy"}, "", "git:main:deploy"},
		{Ref{"main", "deploy"}, "a/b.yaml", "git:main:deploy/a/b.yaml"},
		{Ref{"main", ""}, "a.yaml", "git:main:a.yaml"},
		{Ref{"main", ""}, "", "git:main:"},
	} {
		if got := tc.ref.Name(tc.rel); got != tc.want {
			t.Errorf("%+v.Name(%q) = %q, want %q", tc.ref, tc.rel, got, tc.want)
		}
	}
}

// FuzzParseRef checks that ParseRef never panics, that what it accepts is
// safe to hand to git (no option, no control character, a clean relative
// path inside the repository), and that String reads back to the same Ref.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"git:main:deploy/", "git:origin/main:a/../b", "git:-x", "git:a:../..", "git:a:/x", "deploy", "git:a:b:c", "git:HEAD@{1}:."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, ok, err := ParseRef(s)
		if ok != strings.HasPrefix(s, Prefix) {
			t.Fatalf("ParseRef(%q): ok = %v", s, ok)
		}
		if !ok || err != nil {
			if ref != (Ref{}) {
				t.Fatalf("ParseRef(%q) = %+v with ok %v, err %v: want the zero Ref", s, ref, ok, err)
			}
			return
		}
		switch {
		case ref.Rev == "" || strings.HasPrefix(ref.Rev, "-") || strings.Contains(ref.Rev, ":"):
			t.Fatalf("ParseRef(%q): bad revision %q", s, ref.Rev)
		case control(ref.Rev) || control(ref.Path):
			t.Fatalf("ParseRef(%q) = %+v: control character", s, ref)
		case ref.Path != "" && (path.Clean(ref.Path) != ref.Path || path.IsAbs(ref.Path) || cleanClimbs(ref.Path) || ref.Path == "."):
			t.Fatalf("ParseRef(%q): path %q is not clean and inside the repository", s, ref.Path)
		}
		back, ok, err := ParseRef(ref.String())
		if !ok || err != nil || back != ref {
			t.Fatalf("ParseRef(%q) = %+v, but its String %q reads as %+v, %v", s, ref, ref.String(), back, err)
		}
	})
}
