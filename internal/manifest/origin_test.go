package manifest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestOrigins checks where the loader says each object, and each field of a
// policy, was read: in YAML documents, in List items, in concatenated JSON
// and on standard input.
func TestOrigins(t *testing.T) {
	l := &Loader{DefaultNamespace: "team", Stdin: strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: s}\n")}
	_, rep, err := l.Load([]string{"testdata/origin/objects.yaml", "testdata/origin/objects.json", "-"})
	if err != nil {
		t.Fatal(err)
	}
	const yml, js = "testdata/origin/objects.yaml", "testdata/origin/objects.json"
	tests := []struct {
		ref   ObjectRef
		field string
		want  Origin // File and Line of the object
		line  int    // FieldLine(field)
	}{
		{ObjectRef{"Namespace", "", "shop"}, "", Origin{File: yml, Line: 2}, 2},
		{ObjectRef{"NetworkPolicy", "shop", "web"}, "", Origin{File: yml, Line: 7}, 7},
		{ObjectRef{"NetworkPolicy", "shop", "web"}, "spec.podSelector", Origin{File: yml, Line: 7}, 13},
		{ObjectRef{"NetworkPolicy", "shop", "web"}, "spec.ingress[0].from[1].ipBlock.cidr", Origin{File: yml, Line: 7}, 19},
		{ObjectRef{"NetworkPolicy", "shop", "web"}, "spec.ingress[0].ports[0].protocol", Origin{File: yml, Line: 7}, 21},
		{ObjectRef{"NetworkPolicy", "shop", "web"}, "spec.egress", Origin{File: yml, Line: 7}, 12},
		{ObjectRef{"Deployment", "shop", "api"}, "spec.template", Origin{File: yml, Line: 26}, 26},
		{ObjectRef{"NetworkPolicy", "team", "in-list"}, "spec.podSelector", Origin{File: yml, Line: 34}, 37},
		{ObjectRef{"Pod", "shop", "a"}, "", Origin{File: js, Line: 1}, 1},
		{ObjectRef{"NetworkPolicy", "shop", "json"}, "spec.egress[0].to[0].ipBlock", Origin{File: js, Line: 4}, 7},
		{ObjectRef{"Pod", "team", "s"}, "", Origin{File: StdinName, Line: 1}, 1},
	}
	for _, tc := range tests {
		got, ok := rep.Origins[tc.ref]
		if !ok {
			t.Errorf("no origin for %v", tc.ref)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(Origin{})); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.ref, diff)
		}
		if l := got.FieldLine(tc.field); l != tc.line {
			t.Errorf("%v FieldLine(%q) = %d, want %d", tc.ref, tc.field, l, tc.line)
		}
	}
	if len(rep.Origins) != 7 {
		t.Errorf("%d origins, want 7: %v", len(rep.Origins), rep.Origins)
	}
}

// TestOriginsFirstWins checks that a duplicate object keeps the origin of
// its first definition.
func TestOriginsFirstWins(t *testing.T) {
	l := &Loader{}
	_, rep, err := l.Decode("dup.yaml", strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"))
	if err == nil {
		t.Fatal("no error for a duplicate")
	}
	if got := rep.Origins[ObjectRef{"Namespace", "", "a"}]; got.Line != 1 {
		t.Errorf("origin line %d, want 1", got.Line)
	}
}
