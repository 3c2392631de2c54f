package scenario

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

const base = `"namespaces":[{"name":"x"}],"pods":[{"namespace":"x","name":"a","ip":"10.0.0.1"}],"probes":["TCP/80"]`

func policy(spec string) string {
	return `{` + base + `,"policies":[{"metadata":{"name":"p","namespace":"x"},"spec":` + spec + `}]}`
}

func TestReadErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty scenario"},
		{"unknown field", `{"bogus":1}`, `unknown field "bogus"`},
		{"trailing", `{` + base + `} {}`, "unexpected data"},
		{"unknown namespace", `{"pods":[{"namespace":"z","name":"a","ip":"10.0.0.1"}],"probes":["TCP/80"]}`, `unknown namespace "z"`},
		{"duplicate pod", `{"namespaces":[{"name":"x"}],"pods":[{"namespace":"x","name":"a","ip":"10.0.0.1"},{"namespace":"x","name":"a","ip":"10.0.0.2"}],"probes":["TCP/80"]}`, `duplicate pod "x/a"`},
		{"duplicate ip", `{` + base + `,"externals":["10.0.0.1"]}`, `already used by "x/a"`},
		{"bad ip", `{"namespaces":[{"name":"x"}],"pods":[{"namespace":"x","name":"a","ip":"10.0.0.01"}],"probes":["TCP/80"]}`, "invalid IP address"},
		{"non-canonical ip", `{` + base + `,"externals":["2001:DB8::1"]}`, `want "2001:db8::1"`},
		{"4in6", `{` + base + `,"externals":["::ffff:1.2.3.4"]}`, "IPv4-mapped"},
		{"no probes", `{"namespaces":[{"name":"x"}]}`, "need at least one probe"},
		{"bad probe", `{"probes":["tcp/80"]}`, `probe "tcp/80"`},
		{"bad pod port", `{"namespaces":[{"name":"x"}],"pods":[{"namespace":"x","name":"a","ip":"10.0.0.1","ports":[{"port":0}]}],"probes":["TCP/80"]}`, "ports[0].port"},
		{"no policyTypes", policy(`{"podSelector":{}}`), "policyTypes: must be set"},
		{"empty ingress", policy(`{"podSelector":{},"policyTypes":["Ingress"],"ingress":[]}`), "empty list must be null"},
		{"no protocol", policy(`{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{"ports":[{"port":80}]}]}`), "protocol: must be set"},
		{"string number port", policy(`{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{"ports":[{"protocol":"TCP","port":"80"}]}]}`), "number in a string"},
		{"named endPort", policy(`{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{"ports":[{"protocol":"TCP","port":"http","endPort":90}]}]}`), "endPort: needs a numeric port"},
		{"empty peer", policy(`{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{}]}]}`), "must set podSelector"},
		{"mixed peer", policy(`{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"podSelector":{},"ipBlock":{"cidr":"10.0.0.0/8"}}]}]}`), "cannot be combined"},
		{"bad cidr", policy(`{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/33"}}]}]}`), "invalid CIDR"},
		{"except family", policy(`{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["2001:db8::/64"]}}]}]}`), "not the same IP family"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadJoinsAllProblems(t *testing.T) {
	_, err := Read(strings.NewReader(policy(`{"podSelector":{},"ingress":[]}`)))
	if got := len(strings.Split(err.Error(), "\n")); got != 2 {
		t.Errorf("Read() reported %d problems, want 2: %v", got, err)
	}
}

type allowAll struct{ calls int }

func (a *allowAll) Allowed(src, dst, probe int) (bool, error) { a.calls++; return true, nil }

func TestMatrixOrderAndPairs(t *testing.T) {
	in := `{"namespaces":[{"name":"x"}],"pods":[{"namespace":"x","name":"b","ip":"10.0.0.2"},{"namespace":"x","name":"a","ip":"10.0.0.1"}],
		"externals":["192.0.2.1","192.0.2.2"],"probes":["UDP/53","TCP/80"]}`
	c, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Matrix(c, &allowAll{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out.Results {
		got = append(got, r.From+">"+r.To+" "+r.Probe)
	}
	// 4 endpoints: 12 ordered pairs minus 2 external->external, times 2 probes.
	want := []string{
		"192.0.2.1>x/a UDP/53", "192.0.2.1>x/a TCP/80", "192.0.2.1>x/b UDP/53", "192.0.2.1>x/b TCP/80",
		"192.0.2.2>x/a UDP/53", "192.0.2.2>x/a TCP/80", "192.0.2.2>x/b UDP/53", "192.0.2.2>x/b TCP/80",
		"x/a>192.0.2.1 UDP/53", "x/a>192.0.2.1 TCP/80", "x/a>192.0.2.2 UDP/53", "x/a>192.0.2.2 TCP/80",
		"x/a>x/b UDP/53", "x/a>x/b TCP/80",
		"x/b>192.0.2.1 UDP/53", "x/b>192.0.2.1 TCP/80", "x/b>192.0.2.2 UDP/53", "x/b>192.0.2.2 TCP/80",
		"x/b>x/a UDP/53", "x/b>x/a TCP/80",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Matrix() order:\n got %q\nwant %q", got, want)
	}
}

func TestOutputRoundTrip(t *testing.T) {
	out := &Output{Probes: []string{"TCP/80"}, Results: []Result{{"x/a", "x/b", "TCP/80", true}, {"x/b", "x/a", "TCP/80", false}}}
	var buf bytes.Buffer
	if err := out.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadOutput(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if m := back.Mismatches(out); len(m) > 0 {
		t.Errorf("round trip mismatches: %q", m)
	}
	want := &Output{Results: []Result{{"x/a", "x/b", "TCP/80", false}, {"x/a", "y/b", "TCP/80", true}}}
	if m := back.Mismatches(want); len(m) != 2 {
		t.Errorf("Mismatches() = %q, want 2 entries", m)
	}
}

func TestMainExitCodes(t *testing.T) {
	setup := func(c *Case) (Evaluator, error) { return &allowAll{}, nil }
	failing := func(c *Case) (Evaluator, error) { return nil, errors.New("boom") }
	panicking := func(c *Case) (Evaluator, error) { panic("kaboom") }
	in := `{` + base + `,"externals":["192.0.2.1"]}`
	tests := []struct {
		name  string
		args  []string
		setup Setup
		code  int
		err   string
	}{
		{"ok", nil, setup, 0, ""},
		{"bench", []string{"-bench", "10"}, setup, 0, ""},
		{"setup error", nil, failing, 2, "setting up: boom"},
		{"panic", nil, panicking, 2, "internal error: panic: kaboom"},
		{"bad flag", []string{"-nope"}, setup, 2, "flag provided but not defined"},
		{"missing file", []string{"-scenario", "/nonexistent.json"}, setup, 2, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main("test", tc.args, strings.NewReader(in), &stdout, &stderr, nil, tc.setup)
			if code != tc.code || !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("Main() = %d, stderr %q; want %d, %q", code, stderr.String(), tc.code, tc.err)
			}
		})
	}
}

func TestSharedTestdataIsValid(t *testing.T) {
	for _, name := range []string{"smoke.json", "cyclonus-bugs.json"} {
		f, err := os.Open("../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Read(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		f.Close()
	}
}
