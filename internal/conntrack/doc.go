// Package conntrack is the node edge of flow learning: it reads a Linux
// node's connection tracking table and turns each tracked connection into a
// netpol.Flow, either live through netlink (NewSource, Linux only) or from
// dump files (NewFileSource), behind the same netpol.FlowSource interface.
//
// Only the original direction is kept: the flow goes from the initiator to
// the responder. A reply tuple whose source differs from the original
// destination means a DNAT took place (a Service VIP or a NodePort was
// translated by kube-proxy); the flow's destination is then the backend that
// answered (the reply source address and port), and the address that was
// dialed is not kept, since the backend is what a policy must allow. TCP,
// UDP and SCTP connections become flows; ICMP and other protocols are
// counted in SourceStats.Skipped. Flows have verdict Forwarded, Reply No,
// and the connection's start timestamp when the kernel keeps one
// (net.netfilter.nf_conntrack_timestamp=1), else the time of the dump.
//
// A connection present in several consecutive dumps is emitted once: it is
// tracked by its original tuple, zone, conntrack ID and start time, and
// forgotten once a dump no longer holds it, so memory is bounded by the size
// of the table. IPs are not resolved to pods here; that is the job of the
// graph and its snapshot.
//
// # Dump files
//
// The file twin reads one connection per line, as printed by `conntrack -L`
// (plain, or with -o extended, id and ktimestamp) and by
// /proc/net/nf_conntrack, for example
//
//	ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=80 src=10.0.1.5 dst=10.0.0.1 sport=8080 dport=40000 [ASSURED] mark=0 use=1 id=123
//
// that is: an optional layer-3 name and number (ipv4 2, ipv6 10), the
// layer-4 name and number, the timeout in seconds, a state word for TCP,
// SCTP and DCCP, then tokens. The first src=, dst=, sport=, dport= are the
// original tuple, the second ones the reply tuple; zone= and id= identify
// the connection, [start=<ctime>] gives its start time. Flags such as
// [ASSURED] and other keys (mark, use, packets, bytes, labels, secctx,
// delta-time...) are ignored. Lines of protocols other than TCP, UDP and
// SCTP are skipped by protocol, whatever follows; empty lines, # comments
// and conntrack's "N flow entries have been shown" line are allowed. The
// -o save, xml and json formats are not read. Capture a node's table with
//
//	conntrack -L -o extended,id > node.conntrack
//
// # Invariants
//
// No logging, no global state; the netlink dependency stays in this
// package. The live source sends the ctnetlink dump request with the
// netlink library's nl package and decodes the answers itself, because
// netlink.ConntrackTableList drops the conntrack ID and SCTP ports; its test
// checks both decoders agree on TCP and UDP. The package may import the
// netpol root package, the standard library, golang.org/x/sys/unix and
// github.com/vishvananda/{netlink,netns}.
package conntrack
