//go:build linux

package conntrack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/netpol/netpol"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// nfnlSubsysCTNetlink is NFNL_SUBSYS_CTNETLINK, the conntrack table.
const nfnlSubsysCTNetlink = 1

// dumpTimeout bounds the wait for the kernel's next answer during a dump.
const dumpTimeout = 30 * time.Second

// NewSource returns a live source that dumps the conntrack table of
// opts.NetNS through netlink every opts.Interval, the first time at once,
// until its context is done; Run then returns nil. Each connection is
// emitted once (see the package documentation). Dumping needs
// CAP_NET_ADMIN in the namespace's owning user namespace (root on a node).
//
// An error on the first dump (no such namespace, no permission) ends Run;
// later failed dumps are counted in Stats().Skipped["dump-error"], described
// in Stats().Problems, and retried at the next interval.
func NewSource(opts Options) netpol.FlowSource {
	return &liveSource{opts: opts}
}

// liveSource is the netlink source.
type liveSource struct {
	opts  Options
	stats counter
}

// Stats returns what the source has read so far; it may be called while Run
// runs.
func (s *liveSource) Stats() netpol.SourceStats { return s.stats.snapshot() }

// Run dumps the table until ctx is done or emit fails.
func (s *liveSource) Run(ctx context.Context, emit func(*netpol.Flow) error) error {
	if ctx.Err() != nil {
		return nil
	}
	sock, err := openSocket(s.opts.NetNS)
	if err != nil {
		return err
	}
	defer sock.Close()
	cf := &connFlows{tr: newTracker(), stats: &s.stats, node: s.opts.Node, emit: emit}
	tick := time.NewTicker(s.opts.interval())
	defer tick.Stop()
	for n := 1; ; n++ {
		if err := s.dump(sock, cf, n == 1); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// dump reads the whole table once and emits the connections not seen in
// the previous dump.
func (s *liveSource) dump(sock *nl.SocketHandle, cf *connFlows, first bool) error {
	now := time.Now()
	entries, complete, err := s.dumpAll(sock, first)
	if err != nil {
		return err
	}
	for i := range entries {
		if err := cf.entry(&entries[i], now); err != nil {
			return err
		}
	}
	if complete {
		cf.tr.sweep()
	}
	return nil
}

// dumpAll dumps the table of every family. complete is false when a family
// failed or changed during its dump (the kernel then says the dump may be
// inconsistent); connections missing from it must not be forgotten. A
// failure is returned on the first dump and counted afterwards.
func (s *liveSource) dumpAll(sock *nl.SocketHandle, first bool) (entries []entry, complete bool, err error) {
	complete = true
	for _, fam := range s.opts.families() {
		got, err := dumpFamily(sock, fam, &s.stats)
		if errors.Is(err, nl.ErrDumpInterrupted) {
			complete, err = false, nil // keep what came
		}
		if err != nil {
			err = fmt.Errorf("dumping the %s conntrack table%s: %w", fam, s.where(), err)
			if errors.Is(err, unix.EPERM) {
				err = fmt.Errorf("%w (CAP_NET_ADMIN is needed)", err)
			}
			if first {
				return nil, false, err
			}
			s.stats.fail("dump-error", err.Error())
			complete = false
			continue
		}
		entries = append(entries, got...)
	}
	return entries, complete, nil
}

// where names the namespace for errors.
func (s *liveSource) where() string {
	if s.opts.NetNS == "" {
		return ""
	}
	return fmt.Sprintf(" of network namespace %q", s.opts.NetNS)
}

// openSocket opens a netfilter netlink socket in the named namespace.
func openSocket(name string) (*nl.SocketHandle, error) {
	ns := netns.None()
	if name != "" {
		var err error
		if strings.ContainsRune(name, '/') {
			ns, err = netns.GetFromPath(name)
		} else {
			ns, err = netns.GetFromName(name)
		}
		if err != nil {
			return nil, fmt.Errorf("opening network namespace %q: %w", name, err)
		}
		defer ns.Close()
	}
	sock, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("opening a netfilter netlink socket: %w", err)
	}
	tv := unix.NsecToTimeval(dumpTimeout.Nanoseconds())
	if err := sock.SetReceiveTimeout(&tv); err != nil {
		sock.Close()
		return nil, fmt.Errorf("setting the netlink receive timeout: %w", err)
	}
	return &nl.SocketHandle{Socket: sock}, nil
}

// dumpFamily dumps the table of one address family. Messages that do not
// decode are counted as rejected. The error may be nl.ErrDumpInterrupted,
// with the entries read.
func dumpFamily(sock *nl.SocketHandle, fam Family, stats *counter) ([]entry, error) {
	af := uint8(unix.AF_INET)
	if fam == IPv6 {
		af = unix.AF_INET6
	}
	req := nl.NewNetlinkRequest(nfnlSubsysCTNetlink<<8|nl.IPCTNL_MSG_CT_GET, unix.NLM_F_DUMP)
	req.AddData(&nl.Nfgenmsg{NfgenFamily: af, Version: nl.NFNETLINK_V0})
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_NETFILTER: sock}
	var out []entry
	err := req.ExecuteIter(unix.NETLINK_NETFILTER, 0, func(msg []byte) bool {
		e, err := decodeMessage(msg)
		if err != nil {
			stats.reject(fmt.Sprintf("netlink %s message: %v", fam, err))
			return true
		}
		out = append(out, e)
		return true
	})
	return out, err
}
