//go:build tools

// Package etcd pins the etcd that netpol's live-cluster tests run against.
// `go install` refuses etcd's server module (its go.mod has replace
// directives), so it is built from this module instead.
package etcd

import _ "go.etcd.io/etcd/server/v3"
