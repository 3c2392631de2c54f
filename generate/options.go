package generate

import (
	"errors"
	"fmt"
)

// Options tune Policies. The zero value generates for every namespace that
// has workloads (but the system ones), with exact /32 and /128 address blocks, numbered ports one
// by one, and idle namespaces left without policies.
type Options struct {
	// Namespaces are the namespaces to generate policies for; empty means
	// every namespace that has workloads in the snapshot, except the
	// system namespaces kube-system, kube-public and kube-node-lease.
	Namespaces []string
	// LockIdle writes a default deny, and nothing else, for a namespace
	// whose workloads saw no traffic in the learning window. Without it,
	// such a namespace is reported and left alone.
	LockIdle bool
	// CIDRPrefix widens external addresses to blocks of this many bits of
	// prefix for IPv4 (1 to 32); IPv6 addresses keep the same number of
	// host bits (a prefix of 96 more). 0 means 32: single addresses.
	CIDRPrefix int
	// NamedPorts writes a port by its container port name when every
	// destination pod of the rule gives that number the same name.
	NamedPorts bool
	// PortRanges writes runs of consecutive ports as one port with endPort.
	PortRanges bool
}

func (o Options) validate() error {
	if o.CIDRPrefix < 0 || o.CIDRPrefix > 32 {
		return fmt.Errorf("cidr prefix %d: want 1 to 32 (0 for single addresses)", o.CIDRPrefix)
	}
	for _, ns := range o.Namespaces {
		if ns == "" {
			return errors.New("empty namespace name")
		}
	}
	return nil
}

// prefixBits returns the prefix length for an address of the given bit
// length (32 or 128).
func (o Options) prefixBits(bits int) int {
	if o.CIDRPrefix == 0 {
		return bits
	}
	return bits - (32 - o.CIDRPrefix)
}
