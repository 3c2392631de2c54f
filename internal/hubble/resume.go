package hubble

import (
	"slices"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/netpol/netpol"
)

// maxAtLast bounds the flows remembered at one instant: beyond it, a
// reconnection at that very instant may repeat some of them.
const maxAtLast = 4096

// track records f (with the envelope time at) as delivered and reports
// whether it is new. After a reconnection the server replays the flows at
// the resume time (since is inclusive): those already delivered are not
// new. Flows without a time are always new.
func (st *streamState) track(f *flowpb.Flow, at *timestamppb.Timestamp) bool {
	ts := f.GetTime()
	if ts == nil {
		ts = at
	}
	if ts == nil {
		return true
	}
	t := ts.AsTime()
	switch {
	case t.After(st.since):
		st.since, st.dedupe = t, false
		st.atLast = append(st.atLast[:0], f)
	case t.Equal(st.since):
		if st.dedupe && slices.ContainsFunc(st.atLast, func(g *flowpb.Flow) bool { return proto.Equal(f, g) }) {
			return false
		}
		if len(st.atLast) < maxAtLast {
			st.atLast = append(st.atLast, f)
		}
	case st.dedupe && t.Before(st.since):
		return false // replayed from before the resume point
	}
	return true
}

// filters returns the server-side whitelist: flows from or to a pod of
// one of the namespaces (Hubble's pod filter "ns/" matches a namespace),
// with one of the verdicts. Filters in the list are ORed, fields of one
// filter ANDed.
func (s *relaySource) filters() []*flowpb.FlowFilter {
	var verdicts []flowpb.Verdict
	for _, v := range s.opts.Verdicts {
		if pv, ok := verdictProto[v]; ok && !slices.Contains(verdicts, pv) {
			verdicts = append(verdicts, pv)
		}
	}
	var pods []string
	for _, ns := range s.opts.Namespaces {
		pods = append(pods, ns+"/")
	}
	switch {
	case len(pods) > 0:
		return []*flowpb.FlowFilter{
			{SourcePod: pods, Verdict: verdicts},
			{DestinationPod: pods, Verdict: verdicts},
		}
	case len(verdicts) > 0:
		return []*flowpb.FlowFilter{{Verdict: verdicts}}
	}
	return nil
}

// verdictProto maps netpol verdicts to Hubble's.
var verdictProto = map[netpol.FlowVerdict]flowpb.Verdict{
	netpol.Forwarded:  flowpb.Verdict_FORWARDED,
	netpol.Dropped:    flowpb.Verdict_DROPPED,
	netpol.Audit:      flowpb.Verdict_AUDIT,
	netpol.Redirected: flowpb.Verdict_REDIRECTED,
}

// resumeTime is since as a Timestamp, nil when zero.
func resumeTime(since time.Time) *timestamppb.Timestamp {
	if since.IsZero() {
		return nil
	}
	return timestamppb.New(since)
}
