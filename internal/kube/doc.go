// Package kube is netpol's live-cluster edge: it reads a cluster through
// the Kubernetes API into the same manifest form that netpol snapshot
// writes and every offline command reads, and it applies NetworkPolicies
// safely: server-side dry-run first, a diff against the live policies, a
// backup of every policy it may touch, server-side apply with the field
// manager "netpol", and a rollback that restores the backup exactly.
//
// What it owns: the kubectl connection flags (k8s.io/cli-runtime
// ConfigFlags), paged and parallel listing, forbidden errors that name the
// missing permission and the ClusterRole of deploy/rbac/ that grants it,
// the apply plan (added, changed, deleted, kept), the backup file format
// and the restore.
//
// Invariants: a policy netpol creates carries the label
// app.kubernetes.io/managed-by=netpol, and netpol deletes a policy without
// that label only when asked to prune; the backup is written atomically
// before the first change; reads list every kind in parallel, page by page.
//
// It may import the netpol root package, client-go, cli-runtime, the
// Kubernetes type modules, sigs.k8s.io/yaml and the standard library. It
// does not import internal/cli, the Hubble or conntrack edges, or the
// simulator.
package kube
