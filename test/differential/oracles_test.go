package differential

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oracle is an oracle command: its name, binary and extra flags, run on
// every scenario or on every n-th.
type oracle struct {
	name  string
	bin   string
	args  []string
	every int
}

// oracleOutput is the verdict format of the oracle commands
// (test/oracles/README.md).
type oracleOutput struct {
	Probes  []string       `json:"probes"`
	Results []oracleResult `json:"results"`
}

type oracleResult struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Probe   string `json:"probe"`
	Allowed bool   `json:"allowed"`
}

// buildOracles builds the oracle commands once per test run, into a cache
// directory outside the repository; Go's build cache makes a rebuild of an
// unchanged oracle cheap. Each oracle is its own module under test/oracles.
func buildOracles(t testing.TB, names ...string) map[string]string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "oracles"))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "netpol-oracles")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	bins := map[string]string{}
	for _, name := range names {
		start := time.Now()
		bin := filepath.Join(out, name)
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Dir = filepath.Join(root, name)
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building oracle %s in %s: %v\n%s", name, cmd.Dir, err, msg)
		}
		t.Logf("built oracle %s in %v: %s", name, time.Since(start).Round(time.Millisecond), bin)
		bins[name] = bin
	}
	return bins
}

// run evaluates a scenario with the oracle and returns its verdicts.
func (o *oracle) run(ctx context.Context, scenario []byte) (*oracleOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.bin, o.args...)
	cmd.Stdin = bytes.NewReader(scenario)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("oracle %s %s: %w: %s", o.name, strings.Join(o.args, " "), err, stderr.Bytes())
	}
	var out oracleOutput
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("oracle %s: decoding its output: %w", o.name, err)
	}
	return &out, nil
}
