// Package netpol is the shared vocabulary of the netpol tool: endpoints,
// probes, protocols and the cluster snapshot that every other package reads.
//
// It owns value types only and does no I/O. It may import the standard
// library (not os, net, net/http, os/exec or logging) and the type-only
// Kubernetes modules (k8s.io/api, k8s.io/apimachinery). Nothing in this module
// is imported by it.
package netpol
