// Package diff compares the connectivity of two versions of a cluster, as a
// pull request changes its manifests: what connections the change allows
// that were denied (gained), what it denies that were allowed (lost), which
// of the lost ones observed traffic uses (breakages) and which gained ones
// no observed traffic uses (openings), each with the rule that now decides
// it; and the namespaces, workloads and pods that appear or disappear.
//
// Connectivity is compared at workload level: every endpoint of a side (pod,
// workload template) is mapped to its top-level workload by the resolution
// of package graph (owner chains, pod-name patterns), and address ranges
// outside the cluster's pods stand for the externals. The ports compared
// are the container ports of both sides, the numeric ports of both sides'
// policies and the ports of observed traffic. The work is done per class of
// endpoints (simulate.Matrix), and per pair of classes of workloads that
// behave alike on both sides, so that it grows with the number of distinct
// behaviours rather than of pods.
//
// Invariants: Compare is a pure function of its arguments; every listing
// is sorted. Like package generate, diff combines simulate and graph; it
// does no I/O and no logging, and may import only the standard library (not
// os, net, net/http, os/exec or logging), the netpol root package, simulate,
// graph and the type-only Kubernetes modules.
package diff
