// Package scenario reads the scenario format shared by the NetworkPolicy
// oracle CLIs under test/oracles and writes their shared verdict format.
//
// It owns everything that is not oracle semantics: decoding and validating a
// scenario (including the "already defaulted" contract on policies), the list
// of endpoints and probes, the order of the results, the -bench loop and the
// command-line plumbing. Each oracle supplies only an [Evaluator].
//
// The package uses the standard library only, so that every oracle module can
// depend on it (through a local replace) whatever its Kubernetes version is.
// Policies stay raw JSON here; each oracle decodes them into its own
// networking.k8s.io/v1 types.
package scenario
