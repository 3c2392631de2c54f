package recipes

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestParseCatalogueProblems checks that a broken recipe file is reported
// with its file and every problem.
func TestParseCatalogueProblems(t *testing.T) {
	const good = `name: ok
title: T
does: D
when: W
parameters:
- {name: name, kind: name, default: ok, help: the name}
template: "x"
example: {connectivity: ["allowed * -> *"]}
`
	tests := []struct {
		name, file, text string
		want             []string
	}{
		{"good", "catalogue/01-ok.yaml", good, nil},
		{"file name", "catalogue/01-other.yaml", good, []string{`file name "01-other" does not end in the recipe name "ok"`}},
		{"unknown field", "catalogue/01-ok.yaml", good + "colour: red\n", []string{`unknown field "colour"`}},
		{"no name param", "catalogue/01-ok.yaml", strings.Replace(good, "name: name, kind: name", "name: title2, kind: value", 1),
			[]string{`every recipe needs a parameter "name"`}},
		{"bad param", "catalogue/01-ok.yaml", strings.Replace(good, "parameters:\n", "parameters:\n- {name: Bad-Name, help: h}\n- {name: p, kind: colour, help: h}\n- {name: q, help: h, required: true, default: x}\n- {name: r, help: h, within: s}\n- {name: s, help: h, kind: cidrs, within: nope}\n", 1),
			[]string{`parameter "Bad-Name": name must be a lowerCamelCase identifier`, `parameter "p": unknown kind "colour"`,
				`parameter "q": required with a default`, `parameter "r": within is only for kind cidrs`, `parameter "s": within names no cidrs parameter`}},
		{"bad template", "catalogue/01-ok.yaml", strings.Replace(good, `template: "x"`, `template: "{{.x"`, 1), []string{"unclosed action"}},
		{"empty", "catalogue/01-ok.yaml", "name: ok\n", []string{"name, title, does, when and template must all be set"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCatalogue(fstest.MapFS{tc.file: {Data: []byte(tc.text)}})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append([]string{tc.file + ": "}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestScalar checks that every value comes back from YAML as itself.
func TestScalar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"web", "web"}, {"app.kubernetes.io/name", "app.kubernetes.io/name"},
		{"yes", `"yes"`}, {"N", `"N"`}, {"off", `"off"`}, {"Null", `"Null"`},
		{"123", `"123"`}, {"0.0.0.0/0", `"0.0.0.0/0"`}, {"::/0", `"::/0"`}, {"-x", `"-x"`},
		{"a b", `"a b"`}, {"", `""`}, {`q"`, `"q\""`},
	}
	for _, tc := range tests {
		if got := scalar(tc.in); got != tc.want {
			t.Errorf("scalar(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
