package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// The exit codes of Main.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitFindings: the command ran, and its result is a finding that a
	// script should act on (simulate: a connection did not meet its
	// expectation).
	ExitFindings = 1
	// ExitUsage: bad flags or arguments, or input that cannot be read or
	// is invalid (a missing file, an invalid policy, an unknown endpoint).
	ExitUsage = 2
)

// env is what every command works with: the streams and the name the
// program is called by.
type env struct {
	// name is the display name: "netpol", or "kubectl netpol" when run as a
	// kubectl plugin.
	name   string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// color is true when stdout is a terminal that takes ANSI colours.
	color bool
	// started is set when a command's run function starts: errors before
	// that are usage errors.
	started bool
}

// Main runs the command line args (without the program name) and returns
// the exit code: ExitOK, ExitFindings or ExitUsage. name is the display name
// used in help text: "netpol", or "kubectl netpol" for the kubectl plugin.
// Errors are printed to stderr as "netpol: <error>", one line per problem.
func Main(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{name: name, stdin: stdin, stdout: stdout, stderr: stderr, color: colorTerminal(stdout)}
	root := newRootCmd(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return ExitOK
	}
	code := ExitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !e.started {
		err = &usageError{cmd: cmd, err: err}
	}
	printError(stderr, err)
	return code
}

// exitError ends a command with a code other than ExitUsage.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is an error in the flags or arguments of cmd; it is printed
// with a pointer to the command's help.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string {
	return fmt.Sprintf("%v\nRun '%s --help' for usage.", e.err, e.cmd.CommandPath())
}
func (e *usageError) Unwrap() error { return e.err }

// printError prints err as "netpol: <error>", one line per problem of a
// joined error.
func printError(w io.Writer, err error) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var b strings.Builder
	for _, err := range errs {
		for i, line := range strings.Split(err.Error(), "\n") {
			if i == 0 || !strings.HasPrefix(line, "Run '") {
				b.WriteString("netpol: ")
			}
			b.WriteString(line + "\n")
		}
	}
	io.WriteString(w, b.String())
}

// colorTerminal reports whether w is a terminal that should get colours:
// a character device, and NO_COLOR unset and TERM not "dumb".
func colorTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// example formats a command's examples with the display name.
func (e *env) example(s string) string {
	return strings.ReplaceAll(strings.Trim(s, "\n"), "NETPOL", e.name)
}
