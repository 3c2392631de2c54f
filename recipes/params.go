package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Param is a parameter of a recipe.
type Param struct {
	// Name is how --set and the template name it: a Go identifier.
	Name string `json:"name"`
	// Kind is the kind of value it takes; "" is KindValue.
	Kind Kind `json:"kind,omitempty"`
	// Help says what the parameter is for.
	Help string `json:"help"`
	// Required parameters have no default and must be set.
	Required bool `json:"required,omitempty"`
	// Default is the value when the parameter is not set; "" leaves an
	// optional parameter empty. It may name other parameters as {param},
	// which stand for their short form (see Kind).
	Default string `json:"default,omitempty"`
	// Within, for KindCIDRs, names another KindCIDRs parameter: each range
	// of this one must lie strictly inside one of its ranges (an ipBlock's
	// except inside its cidr).
	Within string `json:"within,omitempty"`
}

// Kind is the kind of value a parameter takes. Lists are comma-separated.
type Kind string

// The kinds of parameters. Each says how a value is checked and how the
// template sees it: a scalar is a YAML scalar, quoted when plain YAML would
// read it as something else; a list is a list of such scalars or of flow
// mappings, ready to be put after "- ".
const (
	// KindValue is a label value; the template sees a scalar.
	KindValue Kind = "value"
	// KindPods selects pods: an app label value ("web", meaning app=web)
	// or labels ("app.kubernetes.io/name=web,tier=front"). The template
	// sees a flow mapping of matchLabels; its short form is the label
	// values joined with "-".
	KindPods Kind = "pods"
	// KindLabels is labels "k=v,k2=v2"; the template sees a flow mapping.
	KindLabels Kind = "labels"
	// KindSelectors is label sets separated by ";": "app=api;app=web,
	// tier=front"; the template sees a list of flow mappings.
	KindSelectors Kind = "selectors"
	// KindName is an object name (a DNS-1123 subdomain); a scalar.
	KindName Kind = "name"
	// KindNamespace is a namespace name (a DNS-1123 label); a scalar.
	KindNamespace Kind = "namespace"
	// KindPorts is ports "8080,metrics,53/UDP": a number or a container
	// port name, with an optional /TCP, /UDP or /SCTP (TCP by default); the
	// template sees a list of {port: P, protocol: PROTO} flow mappings.
	KindPorts Kind = "ports"
	// KindCIDRs is CIDRs "10.0.0.0/8,fd00::/8" (an address is a /32 or
	// /128), written canonically; the template sees a list of scalars, and
	// its function inside (see Recipe.Template) picks those strictly inside
	// a given one.
	KindCIDRs Kind = "cidrs"
)

var kinds = []Kind{KindValue, KindPods, KindLabels, KindSelectors, KindName, KindNamespace, KindPorts, KindCIDRs}

var identifier = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)

func (p *Param) check() error {
	if !identifier.MatchString(p.Name) {
		return fmt.Errorf("parameter %q: name must be a lowerCamelCase identifier", p.Name)
	}
	if p.Kind == "" {
		p.Kind = KindValue
	}
	if !slices.Contains(kinds, p.Kind) {
		return fmt.Errorf("parameter %q: unknown kind %q", p.Name, p.Kind)
	}
	if p.Help == "" {
		return fmt.Errorf("parameter %q: no help", p.Name)
	}
	if p.Required && p.Default != "" {
		return fmt.Errorf("parameter %q: required with a default", p.Name)
	}
	if p.Within != "" && p.Kind != KindCIDRs {
		return fmt.Errorf("parameter %q: within is only for kind cidrs", p.Name)
	}
	return nil
}

// value is a checked parameter value: what the template sees, and the short
// form that defaults use.
type value struct {
	data  any // string or []string of YAML text
	short string
}

// parse checks s as a value of the parameter's kind.
func (p *Param) parse(s string) (value, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if p.Kind == KindPods || p.Kind == KindLabels {
			return value{data: ""}, nil
		}
		if p.Kind == KindCIDRs {
			return value{data: []cidr(nil)}, nil
		}
		if p.Kind == KindSelectors || p.Kind == KindPorts {
			return value{data: []string(nil)}, nil
		}
		return value{data: ""}, nil
	}
	switch p.Kind {
	case KindValue:
		return scalarValue(s, content.IsLabelValue(s), "a label value")
	case KindName:
		return scalarValue(s, content.IsDNS1123Subdomain(s), "an object name")
	case KindNamespace:
		return scalarValue(s, content.IsDNS1123Label(s), "a namespace name")
	case KindPods:
		if !strings.Contains(s, "=") {
			s = "app=" + s
		}
		return labelsValue(s)
	case KindLabels:
		return labelsValue(s)
	case KindSelectors:
		return selectorsValue(s)
	case KindPorts:
		return portsValue(s)
	case KindCIDRs:
		return cidrsValue(s)
	}
	return value{}, fmt.Errorf("unknown kind %q", p.Kind)
}

func scalarValue(s string, problems []string, what string) (value, error) {
	if len(problems) > 0 {
		return value{}, fmt.Errorf("%q is not %s: %s", s, what, strings.Join(problems, "; "))
	}
	return value{data: scalar(s), short: s}, nil
}

// labelsValue parses "k=v,k2=v2" into a flow mapping with sorted keys.
func labelsValue(s string) (value, error) {
	m, err := parseLabels(s)
	if err != nil {
		return value{}, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var pairs, values []string
	for _, k := range keys {
		pairs = append(pairs, scalar(k)+": "+scalar(m[k]))
		values = append(values, m[k])
	}
	return value{data: "{" + strings.Join(pairs, ", ") + "}", short: strings.Join(values, "-")}, nil
}

func parseLabels(s string) (map[string]string, error) {
	m := map[string]string{}
	var errs []error
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%q is not a label KEY=VALUE", kv))
			continue
		case len(content.IsLabelKey(k)) > 0:
			errs = append(errs, fmt.Errorf("%q is not a label key: %s", k, strings.Join(content.IsLabelKey(k), "; ")))
		case len(content.IsLabelValue(v)) > 0:
			errs = append(errs, fmt.Errorf("%q is not a label value: %s", v, strings.Join(content.IsLabelValue(v), "; ")))
		case m[k] != "" && m[k] != v:
			errs = append(errs, fmt.Errorf("label %q given twice", k))
		}
		m[k] = v
	}
	return m, errors.Join(errs...)
}

func selectorsValue(s string) (value, error) {
	var out, shorts []string
	var errs []error
	for _, set := range strings.Split(s, ";") {
		if strings.TrimSpace(set) == "" {
			continue
		}
		v, err := labelsValue(set)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, v.data.(string))
		shorts = append(shorts, v.short)
	}
	return value{data: out, short: strings.Join(shorts, "-")}, errors.Join(errs...)
}

// portsValue parses "8080,metrics/TCP,53/UDP".
func portsValue(s string) (value, error) {
	var out []string
	var errs []error
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		port, proto, _ := strings.Cut(f, "/")
		proto = strings.ToUpper(proto)
		if proto == "" {
			proto = "TCP"
		}
		if !slices.Contains([]string{"TCP", "UDP", "SCTP"}, proto) {
			errs = append(errs, fmt.Errorf("%q: protocol must be TCP, UDP or SCTP", f))
			continue
		}
		text := scalar(port)
		if n, err := strconv.Atoi(port); err == nil {
			if problems := validation.IsValidPortNum(n); len(problems) > 0 {
				errs = append(errs, fmt.Errorf("%q: %s", f, strings.Join(problems, "; ")))
				continue
			}
			text = strconv.Itoa(n)
		} else if problems := validation.IsValidPortName(port); len(problems) > 0 {
			errs = append(errs, fmt.Errorf("%q is neither a port number nor a port name: %s", port, strings.Join(problems, "; ")))
			continue
		}
		out = append(out, "{port: "+text+", protocol: "+proto+"}")
	}
	return value{data: out, short: strings.ReplaceAll(s, ",", "-")}, errors.Join(errs...)
}

// cidrsValue parses "10.0.0.0/8,::/0" and writes each CIDR canonically;
// an address without a length is a /32 or /128.
func cidrsValue(s string) (value, error) {
	var out []cidr
	var errs []error
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", f))
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Masked() != p {
			errs = append(errs, fmt.Errorf("%q has host bits set; did you mean %s?", f, p.Masked()))
			continue
		}
		out = append(out, cidr{p})
	}
	return value{data: out, short: s}, errors.Join(errs...)
}

// cidr is a CIDR value as the template sees it.
type cidr struct{ p netip.Prefix }

// String writes the CIDR as a YAML scalar.
func (c cidr) String() string { return scalar(c.p.String()) }

// strictlyInside reports whether c lies inside o and is smaller.
func (c cidr) strictlyInside(o cidr) bool {
	return c.p.Addr().Is4() == o.p.Addr().Is4() && c.p.Bits() > o.p.Bits() && o.p.Contains(c.p.Addr())
}

// inside returns the ranges of list strictly inside c: the template
// function that gives an ipBlock its excepts.
func inside(c cidr, list []cidr) []cidr {
	var out []cidr
	for _, x := range list {
		if x.strictlyInside(c) {
			out = append(out, x)
		}
	}
	return out
}

// checkWithin checks that every range of v lies strictly inside one of
// outer's.
func checkWithin(v, outer []cidr, outerName string) error {
	var errs []error
	for _, x := range v {
		if !slices.ContainsFunc(outer, x.strictlyInside) {
			errs = append(errs, fmt.Errorf("%s is not strictly inside any range of %s", x.p, outerName))
		}
	}
	return errors.Join(errs...)
}

// plain matches the strings that YAML (1.1 and 1.2) reads back as the same
// string when written without quotes.
var plain = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._/-]*$`)

// yamlWords are the plain scalars that YAML 1.1 reads as booleans or null.
var yamlWords = []string{"y", "n", "yes", "no", "on", "off", "true", "false", "null"}

// scalar writes s as a YAML scalar that reads back as the string s: plain
// when that is safe, double-quoted otherwise.
func scalar(s string) string {
	if plain.MatchString(s) && !slices.Contains(yamlWords, strings.ToLower(s)) {
		return s
	}
	b, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
	return string(b)
}
