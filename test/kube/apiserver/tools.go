//go:build tools

// Package apiserver pins the kube-apiserver that netpol's live-cluster tests
// run against. It is a module of its own because building k8s.io/kubernetes
// needs a replace directive for every staging module, and a replace directive
// in netpol's own go.mod would break `go install` of netpol.
package apiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
