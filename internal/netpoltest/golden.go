package netpoltest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is the -update flag of every test binary that imports this
// package: `go test ./... -update` rewrites the golden files.
var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Update reports whether the test run rewrites golden files (-update).
func Update() bool { return *update }

// Golden compares got with the golden file at path (relative to the test's
// package directory, usually testdata/NAME.golden), or rewrites the file
// with got when the run has -update. A missing golden file is a failure
// that names the flag.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the output (-golden +got; rerun with -update to accept):\n%s", path, diff)
	}
}
