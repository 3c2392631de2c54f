package conntrack

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// nlAttr encodes a netlink attribute as the kernel does: native-endian
// length and type, the payload, padding to 4 bytes.
func nlAttr(typ uint16, payload ...[]byte) []byte {
	var body []byte
	for _, p := range payload {
		body = append(body, p...)
	}
	b := make([]byte, 4, 4+len(body)+3)
	binary.NativeEndian.PutUint16(b, uint16(4+len(body)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// nested marks an attribute type as nested, as the kernel does.
func nested(typ uint16) uint16 { return typ | 0x8000 }

func be16b(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32b(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64b(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// nlTuple encodes a tuple attribute; ports are left out for protocols
// without them (ICMP), as the kernel does.
func nlTuple(typ uint16, proto uint8, src, dst netip.AddrPort) []byte {
	ipSrc, ipDst := uint16(ctaIPv4Src), uint16(ctaIPv4Dst)
	if src.Addr().Is6() {
		ipSrc, ipDst = ctaIPv6Src, ctaIPv6Dst
	}
	ip := nlAttr(nested(ctaTupleIP), nlAttr(ipSrc, src.Addr().AsSlice()), nlAttr(ipDst, dst.Addr().AsSlice()))
	parts := [][]byte{nlAttr(ctaProtoNum, []byte{proto})}
	if proto != protoICMP && proto != protoICMPv6 {
		parts = append(parts, nlAttr(ctaProtoSrcPort, be16b(src.Port())), nlAttr(ctaProtoDstPort, be16b(dst.Port())))
	}
	return nlAttr(nested(typ), ip, nlAttr(nested(ctaTupleProto), parts...))
}

// nlMsg encodes a dump message: nfgenmsg, then the attributes.
func nlMsg(family uint8, attrs ...[]byte) []byte {
	b := []byte{family, 0, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

func TestDecodeMessage(t *testing.T) {
	start := time.Date(2026, 11, 26, 10, 26, 1, 5, time.UTC)
	tcpOrig := nlTuple(ctaTupleOrig, protoTCP, ap("10.0.0.1:40000"), ap("10.96.0.10:80"))
	tcpReply := nlTuple(ctaTupleReply, protoTCP, ap("10.0.1.5:8080"), ap("10.0.0.1:40000"))
	tests := []struct {
		name    string
		msg     []byte
		want    entry
		wantErr string
	}{
		{name: "tcp with id zone and start", msg: nlMsg(2, tcpOrig, tcpReply,
			nlAttr(3, be32b(0x18e)), // CTA_STATUS, skipped
			nlAttr(ctaID, be32b(2993847525)), nlAttr(ctaZone, be16b(7)),
			nlAttr(nested(ctaTimestamp), nlAttr(ctaTimestampStart, be64b(uint64(start.UnixNano()))))),
			want: entry{proto: protoTCP, orig: tuple{ap("10.0.0.1:40000"), ap("10.96.0.10:80")}, reply: tuple{ap("10.0.1.5:8080"), ap("10.0.0.1:40000")},
				id: 2993847525, zone: 7, start: start}},
		{name: "sctp v6 ports", msg: nlMsg(10,
			nlTuple(ctaTupleOrig, protoSCTP, ap("[fd23::11]:4000"), ap("[fd23::12]:3868")),
			nlTuple(ctaTupleReply, protoSCTP, ap("[fd23::12]:3868"), ap("[fd23::11]:4000"))),
			want: entry{proto: protoSCTP, orig: tuple{ap("[fd23::11]:4000"), ap("[fd23::12]:3868")}, reply: tuple{ap("[fd23::12]:3868"), ap("[fd23::11]:4000")}}},
		{name: "icmp without ports", msg: nlMsg(2,
			nlTuple(ctaTupleOrig, protoICMP, ap("10.0.0.1:0"), ap("10.0.0.2:0")),
			nlTuple(ctaTupleReply, protoICMP, ap("10.0.0.2:0"), ap("10.0.0.1:0"))),
			want: entry{proto: protoICMP, orig: tuple{ap("10.0.0.1:0"), ap("10.0.0.2:0")}, reply: tuple{ap("10.0.0.2:0"), ap("10.0.0.1:0")}}},
		{name: "zero timestamp is unknown", msg: nlMsg(2, tcpOrig, nlAttr(nested(ctaTimestamp), nlAttr(ctaTimestampStart, be64b(0)))),
			want: entry{proto: protoTCP, orig: tuple{ap("10.0.0.1:40000"), ap("10.96.0.10:80")}}},
		{name: "unpadded last attribute", msg: nlMsg(2, tcpOrig, nlAttr(ctaZone, be16b(3))[:6]),
			want: entry{proto: protoTCP, orig: tuple{ap("10.0.0.1:40000"), ap("10.96.0.10:80")}, zone: 3}},
		{name: "short header", msg: []byte{2, 0}, wantErr: "shorter than its header"},
		{name: "no original tuple", msg: nlMsg(2, tcpReply), wantErr: "no original tuple"},
		{name: "attribute past the end", msg: nlMsg(2, tcpOrig[:len(tcpOrig)-4]), wantErr: "has length"},
		{name: "trailing bytes", msg: append(nlMsg(2, tcpOrig), 1, 2), wantErr: "trailing bytes"},
		{name: "bad address length", msg: nlMsg(2, nlAttr(nested(ctaTupleOrig), nlAttr(nested(ctaTupleIP), nlAttr(ctaIPv4Src, []byte{1, 2, 3})))), wantErr: "address of 3 bytes"},
		{name: "short port", msg: nlMsg(2, nlAttr(nested(ctaTupleOrig), nlAttr(nested(ctaTupleProto), nlAttr(ctaProtoSrcPort, []byte{1})))), wantErr: "16-bit value of 1 bytes"},
		{name: "short id", msg: nlMsg(2, tcpOrig, nlAttr(ctaID, []byte{1, 2})), wantErr: "32-bit value of 2 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeMessage(tc.msg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, addrOpts); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecodeMessage checks that no input makes the decoder panic, and that
// a decoded entry always has an original tuple.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(nlMsg(2, nlTuple(ctaTupleOrig, protoTCP, ap("10.0.0.1:1"), ap("10.0.0.2:2")), nlTuple(ctaTupleReply, protoTCP, ap("10.0.0.2:2"), ap("10.0.0.1:1"))))
	f.Add(nlMsg(10, nlTuple(ctaTupleOrig, protoSCTP, ap("[fd00::1]:1"), ap("[fd00::2]:2")), nlAttr(ctaID, be32b(1))))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeMessage(b)
		if err == nil && (!e.orig.src.IsValid() || !e.orig.dst.IsValid()) {
			t.Fatalf("decoded %+v without an original tuple", e)
		}
	})
}
