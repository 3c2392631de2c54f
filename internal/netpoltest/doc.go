// Package netpoltest is test support, imported only from _test.go files: a
// one-line DSL for namespaces, pods and policies, a golden-file helper with
// an -update flag, and a dependency checker for the core packages.
package netpoltest
