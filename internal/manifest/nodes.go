package manifest

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// parseNode parses one document into its root node with go.yaml.in/yaml/v3,
// for line numbers only (values come from sigs.k8s.io/yaml). It returns nil
// when the document does not parse or has no content.
func parseNode(data []byte) *yaml.Node {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return resolveAlias(doc.Content[0])
}

// resolveAlias follows aliases ("*name") to the node they stand for.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// mappingValue returns the key and value nodes of key in mapping n, or nils.
// Later keys win, as with sigs.k8s.io/yaml.
func mappingValue(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			k, v = n.Content[i], resolveAlias(n.Content[i+1])
		}
	}
	return k, v
}

// pathSegments splits a field path into names and bracketed keys or
// indexes: "spec.ingress[0].from" is spec, ingress, [0], from;
// "metadata.labels[app.kubernetes.io/name]" keeps the dotted key whole.
func pathSegments(path string) []string {
	var out []string
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return append(out, path[1:])
			}
			out = append(out, path[:end+1])
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			out = append(out, path[:end])
			path = path[end:]
		}
	}
	return out
}

// nodeLine returns the line of the field at path below root: the line of its
// key in a mapping, of its item in a sequence. When the path leaves the tree
// it returns the line of the deepest field found; 0 for a nil root.
func nodeLine(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n, line := root, root.Line
	for _, seg := range pathSegments(path) {
		key := strings.TrimSuffix(strings.TrimPrefix(seg, "["), "]")
		if n.Kind == yaml.SequenceNode && strings.HasPrefix(seg, "[") {
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n = resolveAlias(n.Content[i])
			line = n.Line
			continue
		}
		k, v := mappingValue(n, key)
		if k == nil {
			return line
		}
		n, line = v, k.Line
	}
	return line
}
