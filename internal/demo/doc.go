// Package demo holds the bundled sample cluster that `netpol demo` runs on:
// a small microservice shop (namespaces frontend, shop, payments, monitoring
// and kube-system with cluster DNS), as plain manifests embedded in the
// binary, so the demo needs no cluster and no network.
//
// It owns data only. It may import the standard library's embed and io/fs.
package demo
