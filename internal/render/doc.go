// Package render presents netpol's results: connectivity matrices,
// explanations and simulated verdicts, as text tables for people and as JSON
// for scripts, learned connectivity graphs as DOT, Mermaid and JSON, the
// recipe catalogue, connectivity differences as text, JSON and pull-request
// markdown, and audit findings as tables, JSON and SARIF 2.1.0 for GitHub
// code scanning. The JSON shapes are stable contracts.
//
// It writes to an io.Writer only and never decides anything: every verdict
// comes from package simulate, every learned edge from package graph. Output
// is deterministic; colour is used only when the caller asks for it (a
// terminal). It may import the standard library, the netpol root package,
// simulate, graph, recipes, diff and audit.
package render
