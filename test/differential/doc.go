// Package differential compares netpol's simulator with independent
// NetworkPolicy implementations (the oracle commands under test/oracles,
// each a Go module of its own) on generated scenarios. It holds tests only;
// they build the oracles with the go command.
package differential
