// Package manifest is the file edge of netpol: it reads a cluster from
// YAML and JSON manifests (files, directories, standard input) into a
// netpol.Snapshot, the way kubectl and the API server would read them.
//
// What it owns: splitting streams into documents as kubectl does ("---"
// lines, concatenated JSON objects), kind: List and typed lists, strict
// decoding (unknown and duplicate fields are errors, field names are case
// sensitive, as with the API server's strict field validation), namespace
// defaulting, the API server's defaulting and validation of NetworkPolicies
// (simulate.Default, simulate.Validate), label and pod IP checks of the
// other objects, duplicate objects, and YAML 1.1 traps (an unquoted y, on or
// 010 where a string belongs).
//
// Invariants: every problem is reported at once, each with file, line,
// object and field path; output order is input order (directories are
// walked in lexical order); a snapshot is returned only when there is no
// problem. Objects of other kinds are counted and skipped, not errors.
//
// It may import the netpol root and simulate packages, the Kubernetes type
// modules, sigs.k8s.io/yaml, sigs.k8s.io/json, go.yaml.in/yaml/v3 (node
// trees, for line numbers), and os, io and io/fs. It does not log.
package manifest
