// Package demo holds the bundled data that `netpol demo` runs on, embedded
// in the binary so that the demo needs no cluster and no network: the
// story (a web shop's manifests before any NetworkPolicy, and an hour of its
// traffic recorded by Hubble, which the demo learns from, generates policies
// for and proves them on), and a sample cluster with hand-written policies
// (a small shop in namespaces frontend, shop, payments, monitoring and
// kube-system) that --export writes out for the simulation commands.
//
// It owns data only. It may import the standard library's embed and io/fs.
package demo
