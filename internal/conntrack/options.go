package conntrack

import (
	"io"
	"strconv"
	"time"
)

// DefaultInterval is the time between two dumps of the live table when
// Options.Interval is zero. It is well below the shortest default conntrack
// timeout that matters (30 s for UDP), so short connections are seen.
const DefaultInterval = 10 * time.Second

// Family is an address family of the conntrack table. The zero value is no
// family.
type Family uint8

// The address families a live source can dump.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String returns "ipv4", "ipv6" or "family(N)".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "family(" + strconv.Itoa(int(f)) + ")"
}

// Options configures a live conntrack source.
type Options struct {
	// Interval is the time between two dumps; the first dump is taken at
	// once. Zero means DefaultInterval.
	Interval time.Duration
	// NetNS is the network namespace whose table is dumped: a path (any
	// string with a slash, e.g. /proc/1234/ns/net) or the name of a
	// namespace under /run/netns (as `ip netns` names it). Empty means the
	// namespace of the calling process.
	NetNS string
	// Families lists the address families to dump. Empty means IPv4 and
	// IPv6.
	Families []Family
	// Node is copied into every flow's Node field (the node observing the
	// table). Empty leaves it unknown.
	Node string
}

// FileOptions configures a conntrack dump-file source.
type FileOptions struct {
	// Paths are the dump files, read in order. "-" reads Stdin; a name
	// ending in ".gz" is decompressed.
	Paths []string
	// Stdin is what "-" reads. Nil means no input for "-" (an error).
	Stdin io.Reader
	// Strict makes the first malformed line an error; otherwise malformed
	// lines are counted in SourceStats.Rejected and reading goes on.
	Strict bool
	// Time is the time of flows whose line has no [start=...] stamp. Zero
	// means the file's modification time (the time of reading for stdin).
	Time time.Time
	// Location is the time zone of [start=...] stamps, which conntrack
	// prints in local time without a zone. Nil means time.Local.
	Location *time.Location
	// Node is copied into every flow's Node field. Empty leaves it unknown.
	Node string
}

// families returns the families to dump, defaulted.
func (o *Options) families() []Family {
	if len(o.Families) == 0 {
		return []Family{IPv4, IPv6}
	}
	return o.Families
}

// interval returns the dump interval, defaulted.
func (o *Options) interval() time.Duration {
	if o.Interval <= 0 {
		return DefaultInterval
	}
	return o.Interval
}
