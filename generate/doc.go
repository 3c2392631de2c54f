// Package generate turns learned connectivity into NetworkPolicies: for
// each namespace, a default deny, an allow-dns policy towards the cluster
// DNS really found in the snapshot or the flows, and one policy per
// workload that allows exactly the connections observed to and from it,
// with the evidence of each rule in an annotation. Verify then proves the
// result with the simulator, together with the policies already in the
// cluster: every observed connection is allowed, and no pair of workloads
// is connected that was not observed, except DNS.
//
// Policies is a pure function of (graph, snapshot, options): the same input
// gives the same policies, in the same order, byte for byte once encoded.
// The Cilium form (CiliumNetworkPolicy, cilium.io/v2) is built from the same
// rules by small structs of this package with JSON tags, not from Cilium's
// API module, which is far too heavy for the core.
//
// Invariants: the package does no I/O and no logging. It may import the
// standard library (not os, net, net/http, os/exec or logging), the netpol
// root package, graph, simulate and the type-only Kubernetes modules.
package generate
