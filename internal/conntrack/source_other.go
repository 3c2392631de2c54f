//go:build !linux

package conntrack

import (
	"context"
	"errors"

	"github.com/netpol/netpol"
)

// errNotLinux is what Run of a live source returns off Linux.
var errNotLinux = errors.New("live conntrack dumps need Linux netlink; read a dump file (conntrack -L -o extended) instead")

// NewSource returns a source whose Run fails: the live conntrack table is
// read through Linux netlink only. Dump files work everywhere (NewFileSource).
func NewSource(opts Options) netpol.FlowSource { return unsupported{} }

// unsupported is the live source off Linux.
type unsupported struct{}

// Run returns an error saying that live dumps need Linux.
func (unsupported) Run(context.Context, func(*netpol.Flow) error) error { return errNotLinux }

// Stats returns zero counts.
func (unsupported) Stats() netpol.SourceStats { return netpol.SourceStats{} }
