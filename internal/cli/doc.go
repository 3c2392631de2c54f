// Package cli is netpol's command line: the cobra command tree, one
// constructor and options struct per command, and the orchestration of each
// command from its sources (manifest files) through the simulator to the
// renderers.
//
// It owns flags, exit codes and the choice of output. Results go to stdout,
// diagnostics to stderr. There is no package-level state: everything a
// command needs reaches it through Main's arguments. It may import every
// other package of the module, cobra and pflag, and the standard library.
package cli
