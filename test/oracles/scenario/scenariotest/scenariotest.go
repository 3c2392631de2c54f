// Package scenariotest holds the test helpers every oracle command shares:
// running its entry point in process, and reading its matrices and the
// expected verdicts of test/oracles/testdata.
package scenariotest

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/netpol/netpol/test/oracles/scenario"
)

// Run is an oracle command's entry point: it returns the exit code.
type Run func(args []string, stdin io.Reader, stdout, stderr io.Writer) int

// CLI runs the command with args and stdin, and returns its stdout, stderr
// and exit code.
func CLI(t testing.TB, run Run, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

// Matrix runs the command with args, fails the test unless it exits 0, and
// returns the matrix it wrote.
func Matrix(t testing.TB, run Run, args ...string) *scenario.Output {
	t.Helper()
	stdout, stderr, code := CLI(t, run, "", args...)
	if code != 0 {
		t.Fatalf("run(%q) = %d: %s", args, code, stderr)
	}
	out, err := scenario.ReadOutput(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Expectation reads the expected verdicts in the file at path.
func Expectation(t testing.TB, path string) *scenario.Output {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := scenario.ReadOutput(f)
	if err != nil {
		t.Fatal(err)
	}
	return want
}
