package hubble

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"slices"
	"testing"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/netpol/netpol"
)

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// fixtureLines returns every line of every fixture, plus each record
// re-encoded by protojson with JSON (lowerCamel) field names, with proto
// names, and as a bare Flow, so both spellings and both shapes are covered.
func fixtureLines(t testing.TB) [][]byte {
	t.Helper()
	var lines [][]byte
	for _, path := range fixtures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, maxLine)
		for sc.Scan() {
			line := append([]byte(nil), sc.Bytes()...)
			lines = append(lines, line)
			var resp observerpb.GetFlowsResponse
			if protojson.Unmarshal(line, &resp) != nil {
				continue
			}
			for _, o := range []protojson.MarshalOptions{{}, {UseProtoNames: true}} {
				b, err := o.Marshal(&resp)
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, b)
				if f := resp.GetFlow(); f != nil {
					b, _ := o.Marshal(f)
					lines = append(lines, b)
				}
			}
		}
	}
	return lines
}

// decodeResult is the outcome of decoding one line.
type decodeResult struct {
	Kind   recordKind
	Failed bool
	Flow   netpol.Flow
}

func decodeWith(d *decoder, line []byte) decodeResult {
	var r decodeResult
	kind, err := d.decode(line, &r.Flow)
	r.Kind, r.Failed = kind, err != nil
	if err != nil || kind != recFlow {
		r.Flow = netpol.Flow{}
	}
	return r
}

// compareDecoders checks that the fast decoder (with its fallback) and
// protojson agree on line. It reports whether the fast path was taken.
func compareDecoders(t *testing.T, fast, slow *decoder, line []byte) bool {
	t.Helper()
	before := fast.fallbacks
	got, want := decodeWith(fast, line), decodeWith(slow, line)
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("fast and protojson decoders differ on %q (-protojson +fast):\n%s", line, diff)
	}
	return fast.fallbacks == before
}

func TestDifferential(t *testing.T) {
	fast, slow := &decoder{}, &decoder{slow: true}
	var n, fastPath int
	for _, line := range fixtureLines(t) {
		n++
		if compareDecoders(t, fast, slow, line) {
			fastPath++
		}
	}
	t.Logf("%d lines, %d on the fast path", n, fastPath)
	if fastPath < n*2/3 {
		t.Errorf("only %d of %d lines took the fast path", fastPath, n)
	}
}

func FuzzDecode(f *testing.F) {
	for _, line := range fixtureLines(f) {
		f.Add(line)
	}
	for _, s := range []string{
		`{}`, `{"flow":{}}`, `{"flow":null}`, `{"time":"2024-02-29T23:59:59.5Z"}`,
		`{"time":"2023-02-29T00:00:00Z"}`, `{"time":"0000-01-01T00:00:00Z"}`,
		`{"time":"2024-01-01T00:00:00.1234567890Z"}`, `{"time":"2024-01-01T00:00:00+01:00"}`,
		`{"IP":{"source":"1.2.3.4","destination":"\u0031.2.3.5"},"l4":{"TCP":{"source_port":"080"}}}`,
		`{"IP":{"source":"1.2.3.4","destination":"1.2.3.5"},"l4":{"UDP":{"destination_port":1e2}}}`,
		`{"IP":{"source":"1.2.3.4","destination":"1.2.3.5"},"is_reply":null,"reply":true}`,
		`{"IP":{"source":"1.2.3.4","destination":"1.2.3.5"},"isReply":true,"is_reply":false}`,
		`{"IP":{"source":"1.2.3.4","destination":"1.2.3.5"},"source":{"labels":["k8s:a=\ud83d\ude00"]}}`,
		`{"IP":{"source":"1.2.3.4","destination":"1.2.3.5"},"l4":{"TCP":{"source_port":4294967296}}}`,
		`{"IP":{"source":"1.2.3.4","destination":"1.2.3.5"},"l4":{"TCP":{"source_port":65536}}}`,
		`{"IP":{"source":"1.2.3.4","destination":"1.2.3.5"},"event_type":{"type":-1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		fast, slow := &decoder{}, &decoder{slow: true}
		compareDecoders(t, fast, slow, line)
		compareDecoders(t, fast, slow, line) // again, from the caches
	})
}

// TestFastKeys checks the key functions of the fast decoder against the
// descriptors: both spellings of a field have the same id, distinct fields
// have distinct ids in 1..63, and the fields the fast decoder reads are
// all known.
func TestFastKeys(t *testing.T) {
	flow := (&flowpb.Flow{}).ProtoReflect().Descriptor()
	msg := func(name protoreflect.Name) protoreflect.MessageDescriptor {
		return flow.ParentFile().Messages().ByName(name)
	}
	resp := (&observerpb.GetFlowsResponse{}).ProtoReflect().Descriptor()
	tables := []struct {
		key     func([]byte) int
		desc    protoreflect.MessageDescriptor
		unknown []string // fields left to protojson
	}{
		{flowKey, flow, []string{"tunnel", "file", "ip_trace_id", "trace_context", "extensions", "aggregate"}},
		{ipKey, msg("IP"), nil}, {ethernetKey, msg("Ethernet"), nil},
		{l4Key, msg("Layer4"), []string{"VRRP", "IGMP"}},
		{portKey, msg("TCP"), nil}, {portKey, msg("UDP"), nil}, {portKey, msg("SCTP"), nil},
		{tcpFlagKey, msg("TCPFlags"), nil}, {icmpKey, msg("ICMPv4"), nil}, {icmpKey, msg("ICMPv6"), nil},
		{endpointKey, msg("Endpoint"), nil}, {nameKindKey, msg("Workload"), nil},
		{nameNamespaceKey, msg("Service"), nil}, {nameVersionKey, msg("Emitter"), nil},
		{indexNameKey, msg("NetworkInterface"), nil}, {l7Key, msg("Layer7"), []string{"kafka"}},
		{dnsKey, msg("DNS"), nil}, {httpKey, msg("HTTP"), nil}, {keyValueKey, msg("HTTPHeader"), nil},
		{eventTypeKey, msg("CiliumEventType"), nil}, {policyKey, msg("Policy"), nil},
		{responseKey, resp, []string{"node_status", "lost_events"}},
	}
	for _, tc := range tables {
		ids := map[int]string{}
		fields := tc.desc.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			id := tc.key([]byte(fd.TextName()))
			if other := tc.key([]byte(fd.JSONName())); other != id {
				t.Errorf("%s.%s: id %d, but %d for %q", tc.desc.Name(), fd.TextName(), id, other, fd.JSONName())
			}
			if id == 0 {
				if !slices.Contains(tc.unknown, fd.TextName()) {
					t.Errorf("%s.%s: unknown to the fast decoder", tc.desc.Name(), fd.TextName())
				}
				continue
			}
			if id >= 64 {
				t.Errorf("%s.%s: id %d, want 1..63", tc.desc.Name(), fd.TextName(), id)
			}
			if prev, ok := ids[id]; ok {
				t.Errorf("%s.%s: id %d is also %s", tc.desc.Name(), fd.TextName(), id, prev)
			}
			ids[id] = fd.TextName()
		}
	}
}
