package cli_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/netpol/netpol/internal/cli"
	"github.com/netpol/netpol/internal/netpoltest"
)

// exitFileEnv names the file where the commands of a script record their
// exit code, for the exitcode command.
const exitFileEnv = "NETPOL_TEST_EXIT_FILE"

func TestMain(m *testing.M) {
	// The tests read clusters from files only: a developer's kubeconfig
	// must never be read, let alone a live cluster. A KUBECONFIG that names
	// a missing file makes every command see no kubeconfig at all.
	os.Setenv("KUBECONFIG", filepath.Join(os.TempDir(), "netpol-cli-test-no-kubeconfig", "config"))
	testscript.Main(m, map[string]func(){
		"netpol":         func() { os.Exit(run("netpol")) },
		"kubectl-netpol": func() { os.Exit(run("kubectl netpol")) },
	})
}

// run runs the CLI as the test binary's command and records its exit code.
func run(name string) int {
	code := cli.Main(name, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if f := os.Getenv(exitFileEnv); f != "" {
		_ = os.WriteFile(f, []byte(strconv.Itoa(code)), 0o644)
	}
	return code
}

// TestScripts runs the command-line scenarios of testdata/script. Besides
// the standard testscript commands, `exitcode N` checks the exit code of the
// last netpol command. `go test -update` rewrites the golden sections that
// `cmp` compares.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("..", "..", "testdata", "script"),
		UpdateScripts: netpoltest.Update(),
		Setup: func(env *testscript.Env) error {
			env.Setenv(exitFileEnv, filepath.Join(env.WorkDir, ".exitcode"))
			// Every script starts with the small cluster as cluster.yaml.
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "clusters", "small.yaml"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "cluster.yaml"), data, 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: exitcode N")
				}
				got := strings.TrimSpace(ts.ReadFile(filepath.Join(ts.Getenv("WORK"), ".exitcode")))
				if got != args[0] {
					ts.Fatalf("exit code %s, want %s", got, args[0])
				}
			},
		},
	})
}
