package netpoltest

import (
	"os/exec"
	"strings"
	"testing"
)

// CoreBannedImports lists the standard packages the core packages (netpol,
// simulate, graph, generate, recipes, diff, audit) must not import themselves: I/O,
// logging and test support. Type-only dependencies may use them inside.
var CoreBannedImports = []string{
	"os", "os/exec", "os/signal", "net", "net/http", "log", "log/slog", "testing", "io/ioutil", "syscall",
}

// CoreBannedDeps lists modules the core must not depend on at all, even
// indirectly: clients, RPC, netlink, the CLI and the adapters.
var CoreBannedDeps = []string{
	"k8s.io/client-go", "google.golang.org/grpc", "github.com/cilium/cilium",
	"github.com/vishvananda/netlink", "github.com/spf13/cobra",
	"github.com/netpol/netpol/internal", "github.com/netpol/netpol/cmd",
}

// CheckDeps fails t when pkg (an import path) imports one of
// CoreBannedImports directly, or depends on a package of CoreBannedDeps at
// any depth. It runs `go list`, so it skips when the go command is missing.
func CheckDeps(t *testing.T, pkg string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found: cannot list dependencies")
	}
	list := func(format string, deps bool) []string {
		args := []string{"list", "-f", format}
		if deps {
			args = append(args, "-deps")
		}
		out, err := exec.Command("go", append(args, pkg)...).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	for _, imp := range list(`{{join .Imports " "}}`, false) {
		for _, b := range CoreBannedImports {
			if imp == b {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	for _, dep := range list("{{.ImportPath}}", true) {
		for _, b := range CoreBannedDeps {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("%s depends on %s (banned: %s)", pkg, dep, b)
			}
		}
	}
}
