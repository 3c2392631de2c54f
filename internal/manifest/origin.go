package manifest

import yaml "go.yaml.in/yaml/v3"

// ObjectRef names an object of a snapshot: its kind ("NetworkPolicy",
// "Deployment"), namespace ("" for cluster-scoped kinds) and name.
type ObjectRef struct {
	Kind, Namespace, Name string
}

// Origin is where an object was read: its file and the line where it
// starts. For a NetworkPolicy it also knows the lines of its fields.
type Origin struct {
	// File is the file as named, or StdinName.
	File string
	// Line is the 1-based line of the object's first field; 0 when unknown.
	Line int

	node *yaml.Node // a NetworkPolicy's mapping node; nil for other kinds
	base int        // added to node lines
}

// FieldLine returns the line of the field at path in the object, such as
// "spec.ingress[0].from[1].namespaceSelector": the line of its key, or of
// its item in a list. When the path leaves what the file spells out (a
// defaulted field), it is the line of the deepest field found; for kinds
// other than NetworkPolicy, and for "", it is the object's line.
func (o Origin) FieldLine(path string) int {
	if o.node == nil || path == "" {
		return o.Line
	}
	if l := nodeLine(o.node, path); l > 0 {
		return o.base + l
	}
	return o.Line
}

// origin records where an object of a snapshot was read, once: a duplicate
// is an error reported elsewhere. Only NetworkPolicies keep their node, so
// the origins of a large cluster stay small.
func (ld *load) origin(src source, ref ObjectRef) {
	if ref.Name == "" {
		return
	}
	if _, ok := ld.report.Origins[ref]; ok {
		return
	}
	o := Origin{File: src.file, Line: src.line}
	if ref.Kind == "NetworkPolicy" {
		o.node, o.base = src.node, src.base
	}
	if ld.report.Origins == nil {
		ld.report.Origins = map[ObjectRef]Origin{}
	}
	ld.report.Origins[ref] = o
}
