package scenario

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// Setup builds an oracle's evaluator for a validated case. Its run time is
// reported by -bench as setupSeconds.
type Setup func(c *Case) (Evaluator, error)

// Main is the whole command line of an oracle: it parses args (-scenario,
// -bench, -seed, plus whatever extra registers), reads the scenario, runs
// setup and prints either the matrix or the bench result on stdout. It
// returns the exit code: 0 on success, 2 on any error, which goes to stderr.
// A panic inside an oracle is reported as an error, not a crash.
func Main(name string, args []string, stdin io.Reader, stdout, stderr io.Writer, extra func(*flag.FlagSet), setup Setup) (code int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("scenario", "", "scenario JSON `file` (default: standard input)")
	bench := fs.Int("bench", 0, "instead of the matrix, time `N` pseudo-random tuples and print the rate")
	seed := fs.Uint64("seed", 1, "random seed for -bench")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		return 2
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error: panic: %v\n", name, r)
			code = 2
		}
	}()
	if err := run(name, *path, *bench, *seed, stdin, stdout, setup); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	return 0
}

func run(name, path string, bench int, seed uint64, stdin io.Reader, stdout io.Writer, setup Setup) error {
	c, err := Load(path, stdin)
	if err != nil {
		return err
	}
	start := time.Now()
	ev, err := setup(c)
	if err != nil {
		return fmt.Errorf("setting up: %w", err)
	}
	setupTime := time.Since(start)
	w := bufio.NewWriter(stdout)
	if bench > 0 {
		res, err := Bench(c, ev, name, bench, seed, setupTime)
		if err != nil {
			return err
		}
		if err := json.NewEncoder(w).Encode(res); err != nil {
			return err
		}
		return w.Flush()
	}
	if bench < 0 {
		return fmt.Errorf("-bench %d: must not be negative", bench)
	}
	if err := WriteMatrix(w, c, ev); err != nil {
		return err
	}
	return w.Flush()
}

// Load reads a scenario from path, or from stdin when path is "" or "-".
func Load(path string, stdin io.Reader) (*Case, error) {
	if path == "" || path == "-" {
		return Read(stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
