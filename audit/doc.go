// Package audit checks what a cluster's NetworkPolicies leave open: namespaces
// without a default-deny for ingress or egress, pods that no policy
// isolates, policies that select nothing, rules that allow every namespace
// or every address, egress to the cloud metadata address, etcd, the API
// server and node ports, namespaces whose egress policies deny DNS, named
// ports that resolve on no pod, and rules shadowed by broader ones.
//
// Each finding has a severity, the object and field path at fault, why it
// matters and the recipe or command that fixes it. Checks that depend on
// connectivity (the sensitive destinations, DNS) ask the simulator, on a
// snapshot compiled with those destinations as endpoints; the others read
// the defaulted policies. Findings are sorted and deterministic.
//
// The package does no I/O and no logging. It may import the standard
// library (no os, net, log), the netpol root package, simulate and the
// Kubernetes type modules; it must not import internal/ packages (tests
// excepted: internal/netpoltest).
package audit
