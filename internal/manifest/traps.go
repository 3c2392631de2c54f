package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// A trap is an unquoted scalar that YAML 1.1, which kubectl and
// sigs.k8s.io/yaml speak, reads as a boolean, number or null where the
// object wants a string: "namespace: y", "labels: {on: x}", "name: 010".
type trap struct {
	field string // path of the value, or of the map for a key
	line  int    // line in the document
	key   bool   // a map key, which is converted to a string silently
	text  string // the scalar as written
	kind  string // "boolean", "integer", "number"
	read  string // what it becomes: "true", "8", "1.1"
}

// message explains t: a key is read silently as another string (a
// warning); a value makes the API server reject the object (an error).
func (t trap) message() string {
	if t.key {
		return fmt.Sprintf("unquoted key %s is read as the %s %s (%q); quote it: %q", t.text, t.kind, t.read, t.read, t.text)
	}
	return fmt.Sprintf("unquoted %s is read as the %s %s, not a string, and the API server rejects it; quote it: %q", t.text, t.kind, t.read, t.text)
}

// scanTraps walks the document node n in step with the Go type t that it
// decodes into and returns the traps, in document order.
func scanTraps(n *yaml.Node, t reflect.Type) []trap {
	var s trapScanner
	s.walk(n, t, "", 0)
	return s.traps
}

type trapScanner struct{ traps []trap }

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

func (s *trapScanner) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	n = resolveAlias(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || depth > 64 || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return // IntOrString, Quantity, Time: they read numbers themselves
	}
	switch n.Kind {
	case yaml.MappingNode:
		s.mapping(n, t, path, depth)
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return
		}
		for i, item := range n.Content {
			s.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	case yaml.ScalarNode:
		if t.Kind() != reflect.String {
			return
		}
		if kind, read := plainNonString(n); kind != "" {
			s.traps = append(s.traps, trap{field: path, line: n.Line, text: n.Value, kind: kind, read: read})
		}
	}
}

func (s *trapScanner) mapping(n *yaml.Node, t reflect.Type, path string, depth int) {
	var fields map[string]reflect.Type
	switch {
	case t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t.Kind() != reflect.Map || t.Key().Kind() != reflect.String:
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			s.walk(v, t, path, depth+1)
			continue
		}
		if fields != nil {
			if ft, ok := fields[k.Value]; ok {
				s.walk(v, ft, join(path, k.Value), depth+1)
			}
			continue
		}
		name := k.Value
		if kind, read := plainNonString(k); kind != "" {
			s.traps = append(s.traps, trap{field: path, line: k.Line, key: true, text: k.Value, kind: kind, read: yaml11KeyString(k.Value)})
			name = read
		}
		s.walk(v, t.Elem(), path+"["+name+"]", depth+1)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields returns the JSON field names of struct t and their types,
// with inline and embedded structs flattened as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		ft := f.Type
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = ft
	}
	fieldCache.Store(t, out)
	return out
}

// plainNonString reports what YAML 1.1 reads an unquoted, untagged scalar
// as when that is a boolean, integer or float ("" otherwise, and for null,
// which means "unset" in every YAML version), and its value as JSON shows it.
func plainNonString(n *yaml.Node) (kind, read string) {
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return "", ""
	}
	switch v := yaml11Resolve(n.Value).(type) {
	case bool:
		return "boolean", strconv.FormatBool(v)
	case int64:
		return "integer", strconv.FormatInt(v, 10)
	case uint64:
		return "integer", strconv.FormatUint(v, 10)
	case float64:
		return "number", strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "", ""
}

// yaml11Bools are the YAML 1.1 booleans of go.yaml.in/yaml/v2.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true,
	"on": true, "On": true, "ON": true, "n": false, "N": false, "no": false, "No": false, "NO": false,
	"false": false, "False": false, "FALSE": false, "off": false, "Off": false, "OFF": false,
}

var yaml11Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// yaml11Resolve returns what go.yaml.in/yaml/v2 (the parser of
// sigs.k8s.io/yaml) makes of a plain scalar: a bool, int64, uint64, float64,
// nil for null, or the string itself. Timestamps stay strings, as v2 keeps
// them when decoding into interface{}.
func yaml11Resolve(s string) any {
	if b, ok := yaml11Bools[s]; ok {
		return b
	}
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	case ".nan", ".NaN", ".NAN":
		return math.NaN()
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1)
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1)
	}
	switch c := s[0]; {
	case c == '.':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case c == '+' || c == '-' || ('0' <= c && c <= '9'):
		plain := strings.ReplaceAll(s, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return u
		}
		if yaml11Float.MatchString(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return f
			}
		}
		if b, ok := strings.CutPrefix(plain, "0b"); ok {
			if i, err := strconv.ParseInt(b, 2, 64); err == nil {
				return i
			}
			if u, err := strconv.ParseUint(b, 2, 64); err == nil {
				return u
			}
		} else if b, ok := strings.CutPrefix(plain, "-0b"); ok {
			if i, err := strconv.ParseInt("-"+b, 2, 64); err == nil {
				return i
			}
		}
	}
	return s
}

// yaml11KeyString returns the string that sigs.k8s.io/yaml makes of a
// non-string map key (convertToJSONableObject): "true", "8", "1.1".
func yaml11KeyString(s string) string {
	switch v := yaml11Resolve(s).(type) {
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		f := strconv.FormatFloat(v, 'g', -1, 32)
		switch f {
		case "+Inf":
			return ".inf"
		case "-Inf":
			return "-.inf"
		case "NaN":
			return ".nan"
		}
		return f
	}
	return s
}
