package demo

import (
	"embed"
	"io/fs"
)

//go:embed cluster
var files embed.FS

// Cluster returns the sample cluster's manifests: a directory of YAML files
// read like the files given with -f, in lexical order.
func Cluster() fs.FS {
	sub, err := fs.Sub(files, "cluster")
	if err != nil {
		// fs.Sub fails only on an invalid path, which "cluster" is not.
		return files
	}
	return sub
}
