// Package lab holds the end-to-end test of NetworkPolicies on real packets:
// pods are network namespaces on a bridge in a "node" namespace (lab.sh),
// Pod and NetworkPolicy objects live on a real kube-apiserver
// (test/kube/start-kube.sh), and the enforcer (./enforcer) gives the first
// packet of each new connection kube-network-policies' verdict through an
// NFQUEUE. See README.md.
//
// It is a Go module of its own so that kube-network-policies never reaches
// netpol's module: the lab is only worth something while netpol's simulator
// and the enforcer stay independent.
package lab
