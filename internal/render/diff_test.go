package render_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/diff"
	"github.com/netpol/netpol/graph"
	"github.com/netpol/netpol/internal/manifest"
	"github.com/netpol/netpol/internal/render"
)

// shopDiff compares testdata/diff/base.yaml with head.yaml, with observed
// traffic: shop/web calls pay/api (which the head denies), a partner
// address was dropped calling pay/api (which the head allows), and a ping
// from the host (not evaluated).
func shopDiff(t *testing.T, observed bool) render.Diff {
	t.Helper()
	load := func(p string) *netpol.Snapshot {
		s, _, err := (&manifest.Loader{}).Load([]string{p})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var o diff.Options
	if observed {
		at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		g := graph.New()
		web, api := graph.WorkloadNode(graph.KindDeployment, "shop", "web"), graph.WorkloadNode(graph.KindDeployment, "pay", "api")
		g.Add(graph.Edge{From: web, To: api, Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolTCP, Port: 8443, Count: 12, FirstSeen: at, LastSeen: at}}})
		g.Add(graph.Edge{From: graph.ExternalNode(netip.MustParseAddr("198.51.100.7")), To: api,
			Dropped: []graph.PortStats{{Protocol: netpol.ProtocolTCP, Port: 8443, Count: 3, FirstSeen: at, LastSeen: at}}})
		g.Add(graph.Edge{From: graph.ReservedNode(netpol.ReservedHost), To: web,
			Forwarded: []graph.PortStats{{Protocol: netpol.ProtocolICMP, Count: 1, FirstSeen: at, LastSeen: at}}})
		o.Observed = g
	}
	r, err := diff.Compare(load("testdata/diff/base.yaml"), load("testdata/diff/head.yaml"), o)
	if err != nil {
		t.Fatal(err)
	}
	return render.Diff{Report: r, Base: "git:main:deploy", Head: "deploy/"}
}

func TestDiffText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		observed bool
		color    bool
	}{{"diff", false, false}, {"diff_observed", true, false}, {"diff_observed_color", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.DiffText(&b, shopDiff(t, tc.observed), render.Options{Color: tc.color}); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
		})
	}
}

func TestDiffJSON(t *testing.T) {
	var b bytes.Buffer
	if err := render.DiffJSON(&b, shopDiff(t, true)); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.json", b.Bytes())
	var doc struct {
		Gained, Lost, Breakages, Openings []struct {
			From, To, Protocol string
			Port               int
			Reasons            []string
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(doc.Breakages) != 1 || doc.Breakages[0].From != "shop/web" || doc.Breakages[0].Port != 8443 || len(doc.Breakages[0].Reasons) == 0 {
		t.Errorf("breakages = %+v", doc.Breakages)
	}
}

func TestDiffMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := render.DiffMarkdown(&b, shopDiff(t, true), 0); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.md", b.Bytes())
	if first, _, _ := strings.Cut(b.String(), "\n"); !strings.HasPrefix(first, ":x: **netpol diff**: 1 observed connection would break") {
		t.Errorf("first line = %q, want the verdict", first)
	}
}

// manyChanges is a synthetic report with 25 gained rows (two ports each)
// and 12 appeared pods: long enough to fold.
func manyChanges() render.Diff {
	r := &diff.Report{Probes: []netpol.Probe{{Protocol: netpol.ProtocolTCP, Port: 80}, {Protocol: netpol.ProtocolTCP, Port: 443}}}
	from := &diff.Peer{Kind: graph.KindDeployment, Namespace: "shop", Name: "web"}
	for i := range 25 {
		to := &diff.Peer{Kind: graph.KindDeployment, Namespace: "shop", Name: fmt.Sprintf("svc-%02d", i)}
		for _, p := range r.Probes {
			r.Gained = append(r.Gained, diff.Change{From: from, To: to, Probe: p, Before: diff.Denied, After: diff.Allowed,
				Reasons: []string{"ingress allowed: no policy selects the destination for ingress"}})
		}
	}
	for i := range 12 {
		r.Appeared.Pods = append(r.Appeared.Pods, fmt.Sprintf("shop/svc-%02d-0", i))
	}
	return render.Diff{Report: r, Base: "git:main:deploy", Head: "deploy/"}
}

func TestDiffMarkdownFold(t *testing.T) {
	var b bytes.Buffer
	if err := render.DiffMarkdown(&b, manyChanges(), 0); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff_fold.md", b.Bytes())
}

// TestDiffMarkdownLimit cuts the comment at ever smaller sizes: it always
// fits, keeps its verdict first, balances its <details> and says what it
// left out.
func TestDiffMarkdownLimit(t *testing.T) {
	d := manyChanges()
	var full bytes.Buffer
	if err := render.DiffMarkdown(&full, d, 0); err != nil {
		t.Fatal(err)
	}
	for limit := full.Len() + 600; limit >= 700; limit -= 37 {
		var b bytes.Buffer
		if err := render.DiffMarkdown(&b, d, limit); err != nil {
			t.Fatal(err)
		}
		cut := strings.Contains(b.String(), "Cut at GitHub's comment size limit")
		switch {
		case b.Len() > limit:
			t.Fatalf("limit %d: %d bytes", limit, b.Len())
		case !strings.HasPrefix(b.String(), ":warning: **netpol diff**: 50 connections gained; 12 pods added\n"):
			t.Fatalf("limit %d: no verdict first:\n%s", limit, b.String())
		case cut == (limit >= full.Len()+600):
			t.Fatalf("limit %d (full %d): cut note %v", limit, full.Len(), cut)
		case strings.Count(b.String(), "<details>") != strings.Count(b.String(), "</details>"):
			t.Fatalf("limit %d: unbalanced <details>:\n%s", limit, b.String())
		}
	}
	var b bytes.Buffer
	if err := render.DiffMarkdown(&b, d, 1800); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff_cut.md", b.Bytes())
}

func TestDiffNoChange(t *testing.T) {
	d := shopDiff(t, false)
	d.Report = &diff.Report{Probes: d.Report.Probes}
	for _, tc := range []struct {
		name string
		f    func(*bytes.Buffer) error
		want string
	}{
		{"text", func(b *bytes.Buffer) error { return render.DiffText(b, d, render.Options{}) }, "netpol diff git:main:deploy -> deploy/: no connectivity change\n"},
		{"markdown", func(b *bytes.Buffer) error { return render.DiffMarkdown(b, d, 0) }, ":white_check_mark: **netpol diff**: no connectivity change\n"},
	} {
		var b bytes.Buffer
		if err := tc.f(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), tc.want) {
			t.Errorf("%s:\n%s\nwant it to start with %q", tc.name, b.String(), tc.want)
		}
	}
}
