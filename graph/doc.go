// Package graph owns the observed connectivity of a cluster: which
// workloads and external entities talked to which, on which protocol and
// port, how often, when, and with what verdict.
//
// A Builder turns observed flows (netpol.Flow) into a Graph: it resolves
// each endpoint to a Node (a workload found through the snapshot's owner
// chain, Hubble's workload field or the pod-name pattern of a controller; a
// bare pod; an external address; a reserved identity), ignores replies,
// drops ephemeral source ports and counts a connection once even when it is
// observed at both ends. A Graph holds nodes and directed edges; each edge
// carries, per protocol and destination port, the count, the first and last
// time seen and one sample flow, with forwarded and dropped evidence kept
// apart. It also keeps the DNS names that flows gave each address (the
// answers of DNS responses), bounded, so that a generator can name external
// destinations. Graphs merge associatively and commutatively, so learners
// sharded by namespace or replicated combine into one picture.
//
// Invariants: the package does no I/O and no logging; every listing it
// returns is sorted; a Graph's memory grows with distinct edges and ports,
// not with flows. It may import only the standard library (not os, net,
// net/http, os/exec or logging), the netpol root package and
// gonum.org/v1/gonum/graph.
package graph
