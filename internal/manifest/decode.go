package manifest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	yaml "go.yaml.in/yaml/v3"

	"github.com/netpol/netpol"
	"github.com/netpol/netpol/simulate"
)

// load is the state of one Load or Decode.
type load struct {
	loader  *Loader
	snap    netpol.Snapshot
	report  Report
	loaded  map[string]int
	skipped map[string]int
	errs    []error
}

func newLoad(l *Loader) *load {
	return &load{loader: l, loaded: map[string]int{}, skipped: map[string]int{}}
}

// fail records a problem; a path error keeps only its cause, since the
// message starts with the file.
func (ld *load) fail(e *Error) {
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && pe.Path == e.File {
		e.Err = pe.Err
	}
	ld.errs = append(ld.errs, e)
}

func (ld *load) warn(file string, line int, object, msg string) {
	ld.report.Warnings = append(ld.report.Warnings, locate(file, line, object)+msg)
}

// finish returns the snapshot (nil on problems), the report and the joined
// problems.
func (ld *load) finish() (*netpol.Snapshot, *Report, error) {
	ld.report.Loaded = kindCounts(ld.loaded)
	ld.report.Skipped = kindCounts(ld.skipped)
	if len(ld.errs) > 0 {
		return nil, &ld.report, errors.Join(ld.errs...)
	}
	return &ld.snap, &ld.report, nil
}

func kindCounts(m map[string]int) []KindCount {
	var out []KindCount
	for k, n := range m {
		out = append(out, KindCount{Kind: k, Count: n})
	}
	slices.SortFunc(out, func(a, b KindCount) int { return cmp.Compare(a.Kind, b.Kind) })
	return out
}

// stream reads every document of one file.
func (ld *load) stream(file string, data []byte) {
	docs, lerr := splitStream(data)
	for _, d := range docs {
		ld.document(file, d)
	}
	if lerr != nil {
		ld.fail(&Error{File: file, Line: lerr.line, Err: lerr.err})
	}
}

// source is where an object is: its file, its mapping node and the offset
// of node lines in the file.
type source struct {
	file  string
	base  int        // added to node lines
	line  int        // the object's line in the file
	node  *yaml.Node // the object's mapping node; nil when unknown
	traps bool       // YAML input: look for YAML 1.1 traps
}

// lineOf returns the line of a field of the object, or of the object.
func (s source) lineOf(field string) int {
	if l := nodeLine(s.node, field); l > 0 {
		return s.base + l
	}
	return s.line
}

// at returns the source of a node below s.
func (s source) at(n *yaml.Node) source {
	s.node = n
	if n != nil {
		s.line = s.base + n.Line
	}
	return s
}

// document decodes one document (YAML 1.1 as sigs.k8s.io/yaml reads it, or
// JSON) and reads the object in it.
func (ld *load) document(file string, d document) {
	raw := d.data
	if !d.json {
		var err error
		if raw, err = sigsyaml.YAMLToJSONStrict(d.data); err != nil {
			for _, le := range yamlErrors(err, d.line) {
				ld.fail(&Error{File: file, Line: le.line, Err: le.err})
			}
			return
		}
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return // an empty document
	}
	src := source{file: file, base: d.line - 1, line: d.line, traps: !d.json}
	if n := parseNode(d.data); n != nil {
		src = src.at(n)
	}
	ld.object(src, raw, typeMeta{})
}

// typeMeta is the head of every object; a typed list's items inherit it.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// object reads one object, or the items of a list.
func (ld *load) object(src source, raw []byte, inherit typeMeta) {
	tm, items, err := readHead(raw, inherit)
	if err != nil {
		ld.fail(&Error{File: src.file, Line: src.lineOf("kind"), Err: err})
		return
	}
	if tm.Kind == "List" || (strings.HasSuffix(tm.Kind, "List") && items != nil) {
		var list []json.RawMessage
		if items != nil && json.Unmarshal(items, &list) != nil {
			ld.fail(&Error{File: src.file, Line: src.lineOf("items"), Err: fmt.Errorf("%s items must be a list", tm.Kind)})
			return
		}
		ld.list(src, tm, list)
		return
	}
	info, err := lookupKind(tm)
	switch {
	case err != nil:
		ld.fail(&Error{File: src.file, Line: src.line, Err: err})
	case info == nil:
		ld.skipped[skippedKind(tm)]++
	default:
		ld.typed(src, raw, info)
	}
}

// readHead returns the apiVersion and kind of an object (inherited when it
// has none) and its items, if any.
func readHead(raw []byte, inherit typeMeta) (typeMeta, json.RawMessage, error) {
	var head struct {
		typeMeta
		Items json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return typeMeta{}, nil, errors.New("apiVersion and kind must be strings")
		}
		return typeMeta{}, nil, errors.New("not a Kubernetes object: expected a mapping with apiVersion and kind")
	}
	tm := typeMeta{APIVersion: cmp.Or(head.APIVersion, inherit.APIVersion), Kind: cmp.Or(head.Kind, inherit.Kind)}
	switch {
	case tm.Kind == "" && tm.APIVersion == "":
		return tm, nil, errors.New("missing apiVersion and kind")
	case tm.Kind == "":
		return tm, nil, fmt.Errorf("%s object without kind", tm.APIVersion)
	case tm.APIVersion == "":
		return tm, nil, fmt.Errorf("%s without apiVersion", tm.Kind)
	}
	return tm, head.Items, nil
}

// list reads the items of a List, or of a typed list such as PodList whose
// items may leave out apiVersion and kind.
func (ld *load) list(src source, tm typeMeta, items []json.RawMessage) {
	var inherit typeMeta
	if tm.Kind != "List" {
		inherit = typeMeta{APIVersion: tm.APIVersion, Kind: strings.TrimSuffix(tm.Kind, "List")}
	}
	_, seq := mappingValue(src.node, "items")
	for i, item := range items {
		isrc := src
		isrc.node = nil
		if seq != nil && seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
			isrc = src.at(resolveAlias(seq.Content[i]))
		}
		ld.object(isrc, item, inherit)
	}
}

// typed decodes an object of a kind netpol reads, strictly, checks it and
// adds it to the snapshot. Its problems are reported in line order.
func (ld *load) typed(src source, raw []byte, info *kindInfo) {
	obj := info.new()
	var valueTraps, keyTraps []trap
	if src.traps && src.node != nil {
		for _, t := range scanTraps(src.node, reflect.TypeOf(obj)) {
			if t.key {
				keyTraps = append(keyTraps, t)
			} else {
				valueTraps = append(valueTraps, t)
			}
		}
	}
	problems, usable := decodeStrict(raw, obj, valueTraps)
	meta := obj.(metav1.Object)
	ns := ""
	if info.namespaced {
		ns = cmp.Or(meta.GetNamespace(), ld.loader.DefaultNamespace, metav1.NamespaceDefault)
	}
	meta.SetNamespace(ns)
	object := objectName(info.kind, cmp.Or(trapText(valueTraps, "metadata.namespace"), ns),
		cmp.Or(trapText(valueTraps, "metadata.name"), meta.GetName()))
	ld.loaded[info.kind]++
	for _, t := range keyTraps {
		ld.warn(src.file, src.base+t.line, object, t.field+": "+t.message())
	}
	var errs []*Error
	if usable {
		warnings, more := info.check(obj)
		for _, p := range more {
			if !underTrap(p.Field, valueTraps) {
				problems = append(problems, p)
			}
		}
		for _, msg := range warnings {
			field, _, _ := strings.Cut(msg, ":")
			ld.warn(src.file, src.lineOf(field), object, msg)
		}
		ref := ObjectRef{Kind: info.kind, Namespace: ns, Name: meta.GetName()}
		if e := ld.duplicate(src, ref, object); e != nil {
			errs = append(errs, e)
		}
		ld.origin(src, ref)
		info.add(&ld.snap, obj)
	}
	for _, p := range problems {
		errs = append(errs, &Error{File: src.file, Line: src.lineOf(p.Field), Object: object, Err: p})
	}
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	for _, e := range errs {
		ld.fail(e)
	}
}

// decodeStrict decodes raw into obj as the API server does with strict field
// validation and returns the problems: the value traps, a type error that
// no trap explains, unknown and duplicate fields. The object is usable when
// decoding failed only at trapped fields, which are left empty.
func decodeStrict(raw []byte, obj any, valueTraps []trap) ([]*simulate.FieldError, bool) {
	var problems []*simulate.FieldError
	for _, t := range valueTraps {
		problems = append(problems, &simulate.FieldError{Field: t.field, Detail: t.message()})
	}
	strict, err := sigsjson.UnmarshalStrict(raw, obj)
	usable := err == nil || explainedByTrap(err, valueTraps)
	if !usable {
		problems = append(problems, decodeProblem(err))
	}
	for _, s := range strict {
		problems = append(problems, strictProblem(s))
	}
	return problems, usable
}

// trapText returns the text of the value trap at field, or "".
func trapText(traps []trap, field string) string {
	for _, t := range traps {
		if t.field == field {
			return t.text
		}
	}
	return ""
}

// underTrap reports whether field is at or below a value trap, whose field
// decoded empty and is already reported.
func underTrap(field string, traps []trap) bool {
	for _, t := range traps {
		if field == t.field || strings.HasPrefix(field, t.field+".") || strings.HasPrefix(field, t.field+"[") {
			return true
		}
	}
	return false
}

// duplicate returns a problem when the object ref was read before, naming
// where (its origin, which ld.origin records).
func (ld *load) duplicate(src source, ref ObjectRef, object string) *Error {
	if ref.Name == "" {
		return nil
	}
	if first, ok := ld.report.Origins[ref]; ok {
		at := strings.TrimSuffix(locate(first.File, first.Line, ""), ": ")
		return &Error{File: src.file, Line: src.line, Object: object, Err: fmt.Errorf("duplicate object, first defined at %s", at)}
	}
	return nil
}

func objectName(kind, ns, name string) string {
	if name == "" {
		name = "(no name)"
	}
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

// typeError matches the type errors of sigs.k8s.io/json.
var typeError = regexp.MustCompile(`^json: cannot unmarshal (\S+) into Go struct field [^.\s]+\.(\S+) of type (\S+)$`)

// decodeProblem turns a decoding error into a problem at its field.
func decodeProblem(err error) *simulate.FieldError {
	if m := typeError.FindStringSubmatch(err.Error()); m != nil {
		return &simulate.FieldError{Field: m[2], Detail: fmt.Sprintf("cannot read a JSON %s as %s", m[1], m[3])}
	}
	return &simulate.FieldError{Field: "(object)", Detail: strings.TrimPrefix(err.Error(), "json: ")}
}

// explainedByTrap reports whether a type error is at the field of a value
// trap, which already explains it better.
func explainedByTrap(err error, traps []trap) bool {
	m := typeError.FindStringSubmatch(err.Error())
	if m == nil {
		return false
	}
	for _, t := range traps {
		if stripIndexes(t.field) == stripIndexes(m[2]) || strings.HasPrefix(stripIndexes(t.field), stripIndexes(m[2])+".") {
			return true
		}
	}
	return false
}

// stripIndexes drops the [i] and [key] parts of a field path.
func stripIndexes(path string) string {
	var b strings.Builder
	for _, seg := range pathSegments(path) {
		if strings.HasPrefix(seg, "[") {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// strictProblem turns an unknown or duplicate field error into a problem.
func strictProblem(err error) *simulate.FieldError {
	var fe sigsjson.FieldError
	if errors.As(err, &fe) {
		detail, _, _ := strings.Cut(err.Error(), " \"")
		return &simulate.FieldError{Field: fe.FieldPath(), Detail: detail}
	}
	return &simulate.FieldError{Field: "(object)", Detail: err.Error()}
}
