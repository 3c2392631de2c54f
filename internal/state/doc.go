// Package state reads and writes the learned connectivity graph as a
// versioned JSON state file ({"schema":"netpol.dev/state/v1",...}), so that
// learning survives restarts and learners merge.
//
// Invariants: the encoding is deterministic (nodes, edges and ports sorted,
// times in UTC), so equal graphs give equal bytes; a file is written
// atomically (a temporary file in the same directory, fsync, rename, fsync
// of the directory), so a crash leaves the old state or the new one, never a
// mix; a file of a newer or unknown schema is refused with a SchemaError and
// never overwritten. It may import the standard library, the netpol root
// package and graph.
package state
