package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netpol/netpol/internal/netpoltest"
	"github.com/netpol/netpol/internal/render"
)

// TestDemo runs the story and compares its output, the temporary
// directory written as $DIR, with testdata/demo.golden; every file it
// names must exist.
func TestDemo(t *testing.T) {
	var b bytes.Buffer
	dir := t.TempDir()
	if err := runDemo(&b, "netpol", render.Options{}, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cluster/shop.yaml", "flows.jsonl", "policies/shop.yaml", "cilium/shop.yaml", "coverage.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	netpoltest.Golden(t, filepath.Join("testdata", "demo.golden"), bytes.ReplaceAll(b.Bytes(), []byte(dir), []byte("$DIR")))
}

func TestComplete(t *testing.T) {
	for _, tc := range []struct{ ns, in, want string }{
		{"", "web-0", "default/web-0"},
		{"shop", "web-0", "shop/web-0"},
		{"shop", "x/web-0", "x/web-0"},
		{"shop", "deployment/web", "shop/deployment/web"},
		{"shop", "statefulset/db", "shop/statefulset/db"},
		{"shop", "x/deployment/web", "x/deployment/web"},
		{"shop", "10.0.0.1", "10.0.0.1"},
		{"shop", "fd00::1", "fd00::1"},
	} {
		if got := (resolver{namespace: tc.ns}).complete(tc.in); got != tc.want {
			t.Errorf("complete(%q) with -n %q = %q, want %q", tc.in, tc.ns, got, tc.want)
		}
	}
}

func TestParseConnections(t *testing.T) {
	text := "# comment\n\nx/a y/b TCP/80 allowed\nx/a 10.0.0.1 udp/53 # trailing\n"
	yaml := "- {from: x/a, to: y/b, probe: TCP/80, expect: allowed}\n- {from: x/a, to: 10.0.0.1, probe: udp/53}\n"
	json := `[{"from": "x/a", "to": "y/b", "probe": "TCP/80", "expect": "allowed"}, {"from": "x/a", "to": "10.0.0.1", "probe": "53/UDP"}]`
	want := []string{"x/a y/b TCP/80 allowed", "x/a 10.0.0.1 UDP/53 "}
	for name, in := range map[string]string{"text": text, "yaml": yaml, "json": json} {
		t.Run(name, func(t *testing.T) {
			conns, err := parseConnections("c", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range conns {
				got = append(got, c.from+" "+c.to+" "+c.probe.String()+" "+c.expect)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("connections (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseConnections(f *testing.F) {
	f.Add("x/a y/b TCP/80 allowed\n# c\n")
	f.Add("- {from: x/a, to: y/b, probe: TCP/80}\n")
	f.Add(`[{"from": "a", "to": "b", "probe": "80"}]`)
	f.Add("- [a, b]\n- {from: a}\n")
	f.Fuzz(func(t *testing.T, in string) {
		conns, err := parseConnections("f", []byte(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		for _, c := range conns {
			if c.from == "" || c.to == "" || c.probe.Port == 0 || !strings.HasPrefix(c.source, "f:") {
				t.Errorf("invalid connection %+v from %q", c, in)
			}
		}
	})
}
