package hubble

import (
	"fmt"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/netpol/netpol"
)

// unmarshal is the protojson configuration of every line: both field
// spellings are accepted, and fields unknown to the compiled-in protos
// (captures from newer Hubble versions) are skipped.
var unmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}

// decoder turns one line of Hubble JSON into a netpol.Flow. It is not safe
// for concurrent use.
type decoder struct {
	// slow disables the fast decoder (benchmarks and differential tests).
	slow   bool
	fast   fastDecoder
	resp   observerpb.GetFlowsResponse
	flow   flowpb.Flow
	labels labelCache
	// fallbacks counts the lines the fast decoder left to protojson.
	fallbacks int64
}

// decode decodes one line (without its newline) into out. A line is a
// GetFlowsResponse (`hubble observe -o json` or `-o jsonpb`) or a bare
// Flow (the legacy JSON output). It returns what the record was; out is
// set only for recFlow.
func (d *decoder) decode(line []byte, out *netpol.Flow) (recordKind, error) {
	if blank(line) {
		return recBlank, nil
	}
	if !d.slow {
		if f, node, at, ok := d.fast.decode(line); ok {
			return convertFlow(f, node, at, out, &d.labels)
		}
		d.fallbacks++
	}
	return d.decodeProto(line, out)
}

// decodeProto is the reference decoder: protojson into the cilium types.
// The line is read as a GetFlowsResponse first; if that has none of flow,
// node_status and lost_events (every Flow field is unknown to it and
// skipped), it is read again as a bare Flow.
func (d *decoder) decodeProto(line []byte, out *netpol.Flow) (recordKind, error) {
	if err := unmarshal.Unmarshal(line, &d.resp); err != nil {
		return recFlow, fmt.Errorf("decoding hubble record: %w", err)
	}
	switch r := d.resp.GetResponseTypes().(type) {
	case *observerpb.GetFlowsResponse_Flow:
		return convertFlow(r.Flow, d.resp.GetNodeName(), d.resp.GetTime(), out, &d.labels)
	case *observerpb.GetFlowsResponse_LostEvents:
		return recLostEvents, nil
	case *observerpb.GetFlowsResponse_NodeStatus:
		return recNodeStatus, nil
	}
	if err := unmarshal.Unmarshal(line, &d.flow); err != nil {
		return recFlow, fmt.Errorf("decoding hubble flow: %w", err)
	}
	return convertFlow(&d.flow, "", nil, out, &d.labels)
}

// blank reports whether line holds only JSON white space.
func blank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
