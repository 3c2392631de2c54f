// Package simulate owns the semantics of networking.k8s.io/v1
// NetworkPolicy: it defaults and validates policies as the API server does,
// compiles a netpol.Snapshot into an Engine once, and then evaluates
// connections between endpoints with the reasons for each verdict.
//
// Invariants: Compile rejects invalid input and never accepts it silently;
// Evaluate never fails, never re-parses and does not allocate; every
// implementation-defined choice is an Options field. The package does no
// I/O and no logging. It may import the standard library (not os, net,
// net/http, os/exec or logging), the netpol root package and the type-only
// Kubernetes modules.
package simulate
