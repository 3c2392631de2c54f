package kube

import (
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// list is a v1 List, the form of a snapshot file.
type list struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Items      []runtime.Object `json:"items"`
}

// Encode writes the objects as one v1 List, the kinds in order, in format
// "yaml" or "json" (indented). The output is deterministic: the same
// objects give the same bytes.
func (o *Objects) Encode(w io.Writer, format string) error {
	l := list{APIVersion: "v1", Kind: "List", Items: []runtime.Object{}}
	for _, k := range o.Kinds {
		l.Items = append(l.Items, k.Items...)
	}
	var data []byte
	var err error
	switch format {
	case "json":
		data, err = json.MarshalIndent(l, "", "  ")
		data = append(data, '\n')
	case "yaml":
		data, err = yaml.Marshal(l)
	default:
		return fmt.Errorf("unknown format %q: want yaml or json", format)
	}
	if err != nil {
		return fmt.Errorf("encoding the snapshot: %w", err)
	}
	_, err = w.Write(data)
	return err
}
