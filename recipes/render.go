package recipes

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"sigs.k8s.io/yaml"
)

// Rendered is a recipe rendered with values.
type Rendered struct {
	// YAML is the policies as a multi-document YAML stream, ready for
	// kubectl apply -f, with a comment naming the recipe and its values.
	YAML []byte
	// Policies are the same policies, decoded strictly from YAML, in
	// order. They are not defaulted (see simulate.Default).
	Policies []networkingv1.NetworkPolicy
}

// MissingError is the error of Render when required parameters are not set.
type MissingError struct {
	Recipe string
	// Params are the missing parameters, in the recipe's order.
	Params []Param
}

// Error names every missing parameter with its help.
func (e *MissingError) Error() string {
	var parts []string
	for _, p := range e.Params {
		parts = append(parts, fmt.Sprintf("%s (%s)", p.Name, p.Help))
	}
	noun := "parameter"
	if len(parts) > 1 {
		noun += "s"
	}
	return fmt.Sprintf("recipe %s: missing required %s %s", e.Recipe, noun, strings.Join(parts, ", "))
}

// Render renders the recipe in namespace with the given parameter values;
// parameters not in values take their defaults. Every problem is reported at
// once: unknown parameters, missing required ones (a *MissingError, joined
// with the others), and values that are not of their parameter's kind. The
// result is decoded back strictly and must be NetworkPolicies in namespace.
func (r *Recipe) Render(namespace string, values map[string]string) (*Rendered, error) {
	data, err := r.data(namespace, values)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := r.tmpl.Execute(&body, data); err != nil {
		return nil, fmt.Errorf("recipe %s: %w", r.Name, err)
	}
	pols, err := decodePolicies(body.Bytes(), namespace)
	if err != nil {
		return nil, fmt.Errorf("recipe %s rendered YAML that is not applicable: %w", r.Name, err)
	}
	var out bytes.Buffer
	out.WriteString("# " + r.Title + ", rendered by:\n")
	out.WriteString("#   netpol recipe render " + r.Name + " " + r.settings(namespace, values) + "\n")
	out.Write(bytes.TrimLeft(body.Bytes(), "\n"))
	if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	return &Rendered{YAML: out.Bytes(), Policies: pols}, nil
}

// settings describes the values as command-line flags, quoted for a shell
// where needed: "-n shop --set app=web".
func (r *Recipe) settings(namespace string, values map[string]string) string {
	s := "-n " + namespace
	for _, p := range r.Params {
		if v, ok := values[p.Name]; ok {
			s += " --set " + shellWord(p.Name+"="+strings.TrimSpace(v))
		}
	}
	return s
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9._/=,:@+-]*$`)

// shellWord quotes s for a POSIX shell unless it is safe as it is.
func shellWord(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// data checks the values and returns what the template sees.
func (r *Recipe) data(namespace string, values map[string]string) (map[string]any, error) {
	var errs []error
	if problems := content.IsDNS1123Label(namespace); len(problems) > 0 {
		errs = append(errs, fmt.Errorf("namespace %q: %s", namespace, strings.Join(problems, "; ")))
	}
	var unknown []string
	for k := range values {
		if _, ok := r.Param(k); !ok {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("recipe %s has no parameter %q; its parameters are %s", r.Name, k, r.paramNames()))
	}
	data := map[string]any{"namespace": scalar(namespace)}
	short := map[string]string{}
	missing := &MissingError{Recipe: r.Name}
	// Parameters without references to others first, so defaults can use them.
	params := slices.Clone(r.Params)
	slices.SortStableFunc(params, func(a, b Param) int { return boolInt(hasRef(a.Default)) - boolInt(hasRef(b.Default)) })
	for _, p := range params {
		raw, set := values[p.Name]
		if !set {
			if p.Required {
				missing.Params = append(missing.Params, p)
				continue
			}
			if !refsKnown(p.Default, short) {
				continue // a parameter it uses is missing or wrong, and reported
			}
			raw = expand(p.Default, short)
		}
		v, err := p.parse(raw)
		if err == nil && p.Required && strings.TrimSpace(raw) == "" {
			err = errors.New("must not be empty")
		}
		if err != nil {
			if !set {
				err = fmt.Errorf("its default %q expands to %q: %w; set it explicitly", p.Default, raw, err)
			}
			errs = append(errs, fmt.Errorf("parameter %s: %w", p.Name, err))
			continue
		}
		data[p.Name], short[p.Name] = v.data, v.short
	}
	for _, p := range r.Params {
		inner, ok1 := data[p.Name].([]cidr)
		outer, ok2 := data[p.Within].([]cidr)
		if p.Within != "" && ok1 && ok2 {
			if err := checkWithin(inner, outer, p.Within); err != nil {
				errs = append(errs, fmt.Errorf("parameter %s: %w", p.Name, err))
			}
		}
	}
	if len(missing.Params) > 0 {
		slices.SortFunc(missing.Params, func(a, b Param) int { return r.paramIndex(a.Name) - r.paramIndex(b.Name) })
		errs = append([]error{missing}, errs...)
	}
	return data, errors.Join(errs...)
}

func (r *Recipe) paramIndex(name string) int {
	return slices.IndexFunc(r.Params, func(p Param) bool { return p.Name == name })
}

func (r *Recipe) paramNames() string {
	var names []string
	for _, p := range r.Params {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

var ref = regexp.MustCompile(`\{([A-Za-z0-9]+)\}`)

func hasRef(s string) bool { return ref.MatchString(s) }

// refsKnown reports whether every parameter that s names has a value.
func refsKnown(s string, short map[string]string) bool {
	for _, m := range ref.FindAllStringSubmatch(s, -1) {
		if _, ok := short[m[1]]; !ok {
			return false
		}
	}
	return true
}

var nameUnsafe = regexp.MustCompile(`[^a-z0-9.-]+`)

// expand replaces {param} with the parameter's short form, lowercased and
// with the characters that names do not allow turned into "-".
func expand(s string, short map[string]string) string {
	return ref.ReplaceAllStringFunc(s, func(m string) string {
		return nameUnsafe.ReplaceAllString(strings.ToLower(short[m[1:len(m)-1]]), "-")
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodePolicies decodes every document of a rendered stream strictly as a
// networking.k8s.io/v1 NetworkPolicy in namespace.
func decodePolicies(stream []byte, namespace string) ([]networkingv1.NetworkPolicy, error) {
	var out []networkingv1.NetworkPolicy
	var errs []error
	for i, doc := range splitDocuments(stream) {
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict(doc, &np); err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		switch {
		case np.APIVersion != "networking.k8s.io/v1" || np.Kind != "NetworkPolicy":
			errs = append(errs, fmt.Errorf("document %d is a %s %s, not a networking.k8s.io/v1 NetworkPolicy", i+1, np.APIVersion, np.Kind))
		case np.Namespace != namespace:
			errs = append(errs, fmt.Errorf("document %d: namespace %q, want %q", i+1, np.Namespace, namespace))
		case np.Name == "":
			errs = append(errs, fmt.Errorf("document %d: no metadata.name", i+1))
		}
		out = append(out, np)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no policy"))
	}
	return out, errors.Join(errs...)
}

// documentSeparator matches the "---" lines of a YAML stream.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocuments splits a YAML stream at "---" lines and drops documents
// that hold only comments and blank lines.
func splitDocuments(stream []byte) [][]byte {
	var out [][]byte
	for _, doc := range documentSeparator.Split(string(stream), -1) {
		empty := true
		for _, line := range strings.Split(doc, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				empty = false
				break
			}
		}
		if !empty {
			out = append(out, []byte(doc))
		}
	}
	return out
}
