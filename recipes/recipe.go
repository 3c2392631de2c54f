package recipes

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"text/template"

	"sigs.k8s.io/yaml"
)

// Recipe is one pattern of the catalogue. Its fields are read from the
// embedded YAML file and must not be changed.
type Recipe struct {
	// Name is the recipe's identifier: lowercase words joined by "-".
	Name string `json:"name"`
	// Title is a one-line description: "Deny all traffic to an application".
	Title string `json:"title"`
	// Does says what the rendered policies do, in a few sentences.
	Does string `json:"does"`
	// When says when to use the recipe, and what to watch for.
	When string `json:"when"`
	// Params are the parameters, in the order help lists them. Every recipe
	// has a "name" parameter for the name of the (first) policy.
	Params []Param `json:"parameters"`
	// Template is the text/template source that renders the policies as
	// YAML. It sees every parameter by name, already written as YAML (see
	// Kind), and "namespace"; the function inside CIDR LIST returns the
	// ranges of LIST strictly inside CIDR.
	Template string `json:"template"`
	// Example is how the tests exercise the recipe, with its expected
	// connectivity on the fixed cluster described in the package doc.
	Example Example `json:"example"`

	tmpl *template.Template
}

// Example is a rendering of a recipe on the fixed example cluster with the
// connectivity expected from it.
type Example struct {
	// Namespace is where the recipe is rendered; "" means "shop".
	Namespace string `json:"namespace,omitempty"`
	// Set are the parameter values.
	Set map[string]string `json:"set,omitempty"`
	// With are other recipes rendered in the same namespace before this
	// one, each with its own values: usually a default-deny that this
	// recipe opens a hole in.
	With []Use `json:"with,omitempty"`
	// Connectivity is the expected table: lines "VERDICT FROM -> TO
	// [PROBE,...]", where VERDICT is allowed or denied, FROM and TO are "*"
	// (any endpoint), "NS/*" (the pods of a namespace), an endpoint ID or an
	// address, and the probes default to all. The first line has FROM and
	// TO "*" and gives the default; for each connection the last line that
	// matches wins. A pod to itself is left out, as is an address to an
	// address.
	Connectivity []string `json:"connectivity"`
}

// Use is another recipe applied in an example.
type Use struct {
	Recipe string            `json:"recipe"`
	Set    map[string]string `json:"set,omitempty"`
}

// String returns "title (name)".
func (r *Recipe) String() string { return r.Title + " (" + r.Name + ")" }

// Param returns the parameter called name.
func (r *Recipe) Param(name string) (Param, bool) {
	i := slices.IndexFunc(r.Params, func(p Param) bool { return p.Name == name })
	if i < 0 {
		return Param{}, false
	}
	return r.Params[i], true
}

//go:embed catalogue/*.yaml
var catalogueFS embed.FS

// catalogue parses the embedded recipes once.
var catalogue = sync.OnceValues(func() ([]Recipe, error) { return parseCatalogue(catalogueFS) })

// All returns every recipe, in catalogue order: the order of the classic
// list, ingress patterns first, then egress. The error is non-nil only if
// the embedded catalogue is broken, which the package's tests rule out.
func All() ([]Recipe, error) {
	rs, err := catalogue()
	return slices.Clone(rs), err
}

// Get returns the recipe called name.
func Get(name string) (Recipe, error) {
	rs, err := catalogue()
	if err != nil {
		return Recipe{}, err
	}
	for _, r := range rs {
		if r.Name == name {
			return r, nil
		}
	}
	return Recipe{}, &UnknownError{Name: name}
}

// UnknownError is the error of Get for a name that is not in the catalogue.
type UnknownError struct{ Name string }

// Error returns "no recipe "NAME"", with the closest names when any look
// alike.
func (e *UnknownError) Error() string {
	msg := fmt.Sprintf("no recipe %q", e.Name)
	rs, _ := catalogue()
	var near []string
	for _, r := range rs {
		if strings.Contains(r.Name, e.Name) || strings.Contains(e.Name, r.Name) {
			near = append(near, r.Name)
		}
	}
	if len(near) > 0 {
		msg += "; did you mean " + strings.Join(near, " or ") + "?"
	}
	return msg
}

// parseCatalogue reads every recipe file of fsys, sorted by file name
// (NN-name.yaml), and checks it. All problems are returned joined.
func parseCatalogue(fsys fs.FS) ([]Recipe, error) {
	files, err := fs.Glob(fsys, "catalogue/*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []Recipe
	var errs []error
	seen := map[string]bool{}
	for _, f := range files {
		r, err := parseRecipe(fsys, f)
		if err == nil && seen[r.Name] {
			err = fmt.Errorf("recipe %q defined twice", r.Name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		seen[r.Name] = true
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func parseRecipe(fsys fs.FS, file string) (Recipe, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return Recipe{}, err
	}
	var r Recipe
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		return r, err
	}
	base := strings.TrimSuffix(path.Base(file), ".yaml")
	if _, name, _ := strings.Cut(base, "-"); name != r.Name {
		return r, fmt.Errorf("file name %q does not end in the recipe name %q", base, r.Name)
	}
	if err := r.check(); err != nil {
		return r, err
	}
	r.tmpl, err = template.New(r.Name).Option("missingkey=error").Funcs(template.FuncMap{"inside": inside}).Parse(r.Template)
	return r, err
}

// check checks the metadata of a recipe: every field set, parameters named
// and typed, a "name" parameter with a default.
func (r *Recipe) check() error {
	var errs []error
	if r.Name == "" || r.Title == "" || r.Does == "" || r.When == "" || r.Template == "" {
		errs = append(errs, errors.New("name, title, does, when and template must all be set"))
	}
	seen := map[string]bool{"namespace": true}
	for i := range r.Params {
		p := &r.Params[i]
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("parameter %q defined twice (or named namespace)", p.Name))
		}
		seen[p.Name] = true
		if err := p.check(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range r.Params {
		if w, ok := r.Param(p.Within); p.Within != "" && (!ok || w.Kind != KindCIDRs) {
			errs = append(errs, fmt.Errorf("parameter %q: within names no cidrs parameter", p.Name))
		}
	}
	if p, ok := r.Param("name"); !ok || p.Kind != KindName || p.Default == "" {
		errs = append(errs, errors.New(`every recipe needs a parameter "name" of kind name with a default`))
	}
	return errors.Join(errs...)
}
