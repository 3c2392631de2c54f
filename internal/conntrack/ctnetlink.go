package conntrack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ctnetlink attribute types (linux/netfilter/nfnetlink_conntrack.h). Only
// what a flow needs is decoded; everything else is skipped.
const (
	ctaTupleOrig  = 1
	ctaTupleReply = 2
	ctaID         = 12
	ctaZone       = 18
	ctaTimestamp  = 20

	ctaTupleIP    = 1
	ctaTupleProto = 2

	ctaIPv4Src = 1
	ctaIPv4Dst = 2
	ctaIPv6Src = 3
	ctaIPv6Dst = 4

	ctaProtoNum     = 1
	ctaProtoSrcPort = 2
	ctaProtoDstPort = 3

	ctaTimestampStart = 1

	// nlaTypeMask clears NLA_F_NESTED and NLA_F_NET_BYTEORDER.
	nlaTypeMask = 0x3fff
	// nfgenmsgLen is the size of the header before the attributes.
	nfgenmsgLen = 4
)

// errNoOrig reports a message without an original tuple.
var errNoOrig = errors.New("no original tuple")

// decodeMessage decodes one IPCTNL_MSG_CT_NEW message of a dump (the payload
// after the netlink header: struct nfgenmsg, then attributes). It never
// panics, whatever b holds.
//
// The decoder is ours rather than netlink.ConntrackTableList's because that
// one (v1.3.1) drops the conntrack ID and leaves SCTP ports at zero; the
// live test checks both agree on TCP and UDP.
func decodeMessage(b []byte) (entry, error) {
	var e entry
	if len(b) < nfgenmsgLen {
		return e, fmt.Errorf("message of %d bytes is shorter than its header", len(b))
	}
	var origProto, replyProto uint8
	var hasOrig bool
	err := walkAttrs(b[nfgenmsgLen:], func(typ uint16, v []byte) error {
		switch typ {
		case ctaTupleOrig:
			hasOrig = true
			return decodeTuple(v, &e.orig, &origProto)
		case ctaTupleReply:
			return decodeTuple(v, &e.reply, &replyProto)
		case ctaID:
			return be32(v, &e.id)
		case ctaZone:
			return be16(v, &e.zone)
		case ctaTimestamp:
			return decodeStart(v, &e.start)
		}
		return nil
	})
	if err != nil {
		return e, err
	}
	if !hasOrig || !e.orig.src.IsValid() || !e.orig.dst.IsValid() {
		return e, errNoOrig
	}
	if e.orig.src.Addr().Is4() != e.orig.dst.Addr().Is4() {
		return e, errors.New("original tuple mixes IPv4 and IPv6")
	}
	e.proto = origProto
	return e, nil
}

// decodeStart decodes the start time of a CTA_TIMESTAMP attribute; zero
// stays unknown.
func decodeStart(b []byte, start *time.Time) error {
	return walkAttrs(b, func(typ uint16, v []byte) error {
		if typ != ctaTimestampStart {
			return nil
		}
		if len(v) < 8 {
			return fmt.Errorf("timestamp of %d bytes", len(v))
		}
		if ns := binary.BigEndian.Uint64(v); ns != 0 && ns < 1<<63 {
			*start = time.Unix(0, int64(ns)).UTC()
		}
		return nil
	})
}

// decodeTuple decodes a CTA_TUPLE_ORIG or CTA_TUPLE_REPLY attribute.
func decodeTuple(b []byte, t *tuple, proto *uint8) error {
	var src, dst netip.Addr
	var sport, dport uint16
	err := walkAttrs(b, func(typ uint16, v []byte) error {
		switch typ {
		case ctaTupleIP:
			return walkAttrs(v, func(typ uint16, v []byte) error {
				switch typ {
				case ctaIPv4Src, ctaIPv6Src:
					return addr(v, typ == ctaIPv6Src, &src)
				case ctaIPv4Dst, ctaIPv6Dst:
					return addr(v, typ == ctaIPv6Dst, &dst)
				}
				return nil
			})
		case ctaTupleProto:
			return walkAttrs(v, func(typ uint16, v []byte) error {
				switch typ {
				case ctaProtoNum:
					if len(v) < 1 {
						return errors.New("empty protocol number")
					}
					*proto = v[0]
				case ctaProtoSrcPort:
					return be16(v, &sport)
				case ctaProtoDstPort:
					return be16(v, &dport)
				}
				return nil
			})
		}
		return nil
	})
	t.src = netip.AddrPortFrom(src, sport)
	t.dst = netip.AddrPortFrom(dst, dport)
	return err
}

// walkAttrs calls fn for each netlink attribute in b, with the type's flag
// bits cleared, and stops at the first error.
func walkAttrs(b []byte, fn func(typ uint16, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%d trailing bytes after the last attribute", len(b))
		}
		n := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask
		if n < 4 || n > len(b) {
			return fmt.Errorf("attribute %d has length %d with %d bytes left", typ, n, len(b))
		}
		if err := fn(typ, b[4:n]); err != nil {
			return err
		}
		b = b[min((n+3)&^3, len(b)):]
	}
	return nil
}

// addr decodes an IPv4 (4 bytes) or IPv6 (16 bytes) address.
func addr(v []byte, v6 bool, a *netip.Addr) error {
	switch {
	case !v6 && len(v) == 4:
		*a = netip.AddrFrom4([4]byte(v))
	case v6 && len(v) == 16:
		*a = netip.AddrFrom16([16]byte(v))
	default:
		return fmt.Errorf("address of %d bytes", len(v))
	}
	return nil
}

// be16 decodes a big-endian 16-bit value.
func be16(v []byte, x *uint16) error {
	if len(v) < 2 {
		return fmt.Errorf("16-bit value of %d bytes", len(v))
	}
	*x = binary.BigEndian.Uint16(v)
	return nil
}

// be32 decodes a big-endian 32-bit value.
func be32(v []byte, x *uint32) error {
	if len(v) < 4 {
		return fmt.Errorf("32-bit value of %d bytes", len(v))
	}
	*x = binary.BigEndian.Uint32(v)
	return nil
}
