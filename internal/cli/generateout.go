package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/netpol/netpol/generate"
)

// newValueFlag binds a flag that takes one of values (the first is the
// default) to a new output.
func newValueFlag(c *cobra.Command, name, usage string, values ...string) *output {
	o := &output{value: values[0], allowed: values}
	c.Flags().Var(o, name, usage)
	_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	return o
}

// policyDoc is one generated policy, in either format, with its namespace.
type policyDoc struct {
	namespace string
	object    any
}

// policyDocs returns the result's policies as NetworkPolicies, or as
// CiliumNetworkPolicies, in the result's order.
func policyDocs(r *generate.Result, cilium bool) []policyDoc {
	var out []policyDoc
	if cilium {
		for _, c := range r.Cilium() {
			out = append(out, policyDoc{c.Metadata.Namespace, c})
		}
		return out
	}
	for _, np := range r.Policies {
		out = append(out, policyDoc{np.Namespace, np})
	}
	return out
}

// encodeDocs encodes docs as multi-document YAML, or as a JSON v1 List;
// both apply with kubectl apply -f as they are. sigs.k8s.io/yaml quotes
// every string that YAML 1.1 would read as something else ("y", "on",
// "010").
func encodeDocs(docs []policyDoc, format string) ([]byte, error) {
	var b bytes.Buffer
	if format == "json" {
		items := make([]any, len(docs))
		for i, d := range docs {
			items[i] = d.object
		}
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		list := struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Items      []any  `json:"items"`
		}{"v1", "List", items}
		if err := enc.Encode(list); err != nil {
			return nil, fmt.Errorf("encoding the policies: %w", err)
		}
		return b.Bytes(), nil
	}
	for i, d := range docs {
		data, err := yaml.Marshal(d.object)
		if err != nil {
			return nil, fmt.Errorf("encoding the policies: %w", err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	return b.Bytes(), nil
}

// writeDocs writes docs to w.
func writeDocs(w io.Writer, docs []policyDoc, format string) error {
	data, err := encodeDocs(docs, format)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// writeDir writes one file per namespace into dir (created if need be),
// NS.yaml or NS.json, and returns the file names, sorted.
func writeDir(dir string, docs []policyDoc, format string) ([]string, error) {
	byNS := map[string][]policyDoc{}
	for _, d := range docs {
		byNS[d.namespace] = append(byNS[d.namespace], d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for ns, nsDocs := range byNS {
		data, err := encodeDocs(nsDocs, format)
		if err != nil {
			return nil, err
		}
		name := ns + "." + format
		if err := writeFile(filepath.Join(dir, name), data); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// writeFile writes data to path through a temporary file in the same
// directory, so that a reader never sees half a file.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
