package conntrack

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseLine(t *testing.T) {
	start := time.Date(2026, 11, 26, 10, 26, 1, 0, time.UTC)
	tcp := func(o1, o2, r1, r2 string) entry {
		return entry{proto: protoTCP, orig: tuple{ap(o1), ap(o2)}, reply: tuple{ap(r1), ap(r2)}}
	}
	withID := func(e entry, id uint32, zone uint16) entry { e.id, e.zone = id, zone; return e }
	tests := []struct {
		name    string
		line    string
		want    entry
		kind    lineKind
		skip    string
		wantErr string
	}{
		{name: "extended with id", line: "ipv4     2 tcp      6 59 CLOSE_WAIT src=10.0.0.1 dst=10.0.0.2 sport=46246 dport=8080 src=10.0.0.2 dst=10.0.0.1 sport=8080 dport=46246 [ASSURED] mark=0 use=1 id=42",
			want: withID(tcp("10.0.0.1:46246", "10.0.0.2:8080", "10.0.0.2:8080", "10.0.0.1:46246"), 42, 0)},
		{name: "plain -L", line: "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.96.0.10 sport=40000 dport=80 src=10.0.1.5 dst=10.0.0.1 sport=8080 dport=40000 [ASSURED] mark=0 use=1",
			want: tcp("10.0.0.1:40000", "10.96.0.10:80", "10.0.1.5:8080", "10.0.0.1:40000")},
		{name: "proc with zone and counters", line: "ipv4     2 tcp      6 117 TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 packets=5 bytes=300 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 packets=4 bytes=200 [ASSURED] mark=0 zone=3 use=2",
			want: withID(tcp("10.0.0.1:1", "10.0.0.2:2", "10.0.0.2:2", "10.0.0.1:1"), 0, 3)},
		{name: "proc ipv6 expanded", line: "ipv6     10 tcp      6 59 CLOSE_WAIT src=fd23:0000:0000:0000:0000:0000:0000:0011 dst=fd23:0000:0000:0000:0000:0000:0000:0012 sport=1 dport=2 src=fd23:0000:0000:0000:0000:0000:0000:0012 dst=fd23:0000:0000:0000:0000:0000:0000:0011 sport=2 dport=1 [ASSURED] mark=0 zone=0 use=2",
			want: tcp("[fd23::11]:1", "[fd23::12]:2", "[fd23::12]:2", "[fd23::11]:1")},
		{name: "udp unreplied with start", line: "ipv4     2 udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=3 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=53 dport=3 mark=0 delta-time=1 [start=Thu Nov 26 10:26:01 2026] use=1",
			want: entry{proto: protoUDP, orig: tuple{ap("10.0.0.1:3"), ap("10.0.0.2:53")}, reply: tuple{ap("10.0.0.2:53"), ap("10.0.0.1:3")}, start: start}},
		{name: "sctp with state", line: "sctp     132 209 ESTABLISHED src=10.0.0.3 dst=10.0.0.1 sport=4000 dport=3868 src=10.0.0.1 dst=10.0.0.3 sport=3868 dport=4000 [ASSURED] mark=0 use=1",
			want: entry{proto: protoSCTP, orig: tuple{ap("10.0.0.3:4000"), ap("10.0.0.1:3868")}, reply: tuple{ap("10.0.0.1:3868"), ap("10.0.0.3:4000")}}},
		{name: "icmp skipped", line: "ipv4     2 icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=7 mark=0 use=1", kind: lineOther, skip: "icmp"},
		{name: "unknown protocol skipped", line: "unknown  41 599 src=10.0.0.1 dst=10.0.0.2 src=10.0.0.2 dst=10.0.0.1 mark=0 use=1", kind: lineOther, skip: "proto-41"},
		{name: "blank", line: "   ", kind: lineBlank},
		{name: "comment", line: "# dump of node-1", kind: lineBlank},
		{name: "summary", line: "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.", kind: lineSummary},
		{name: "missing reply", line: "tcp 6 59 CLOSE_WAIT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2", wantErr: "reply tuple has no src="},
		{name: "cut line", line: "tcp 6 59 CLOSE_WAIT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2", wantErr: "reply tuple has no dport="},
		{name: "bad address", line: "tcp 6 59 src=10.0.0.300 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1", wantErr: `src="10.0.0.300" is not an IP address`},
		{name: "zoned address", line: "tcp 6 59 src=fe80::1%eth0 dst=fe80::2 sport=1 dport=2 src=fe80::2 dst=fe80::1 sport=2 dport=1", wantErr: "is not an IP address"},
		{name: "bad port", line: "tcp 6 59 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=70000 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1", wantErr: `dport="70000" is not a port`},
		{name: "third tuple", line: "udp 17 5 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 src=10.0.0.3", wantErr: "third src="},
		{name: "mixed families", line: "udp 17 5 src=10.0.0.1 dst=fd00::2 sport=1 dport=2 src=fd00::2 dst=10.0.0.1 sport=2 dport=1", wantErr: "mix IPv4 and IPv6"},
		{name: "family mismatch", line: "ipv6 10 udp 17 5 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1", wantErr: "ipv6 line holds IPv4 addresses"},
		{name: "bad l3 number", line: "ipv4 10 udp 17 5", wantErr: "ipv4 must be followed by 2"},
		{name: "name and number disagree", line: "udp 6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1", wantErr: `protocol "udp" does not match number 6 (tcp)`},
		{name: "bad protocol number", line: "tcp six 5", wantErr: `protocol number "six"`},
		{name: "bad timeout", line: "tcp 6 soon ESTABLISHED src=10.0.0.1", wantErr: `timeout "soon"`},
		{name: "too short", line: "tcp 6", wantErr: "want a protocol name"},
		{name: "stray word", line: "tcp 6 5 ESTABLISHED src=10.0.0.1 oops", wantErr: `unexpected "oops"`},
		{name: "unclosed bracket", line: "udp 17 5 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [start=Thu Nov", wantErr: `unclosed "[start=Thu"`},
		{name: "bad start", line: "udp 17 5 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [start=yesterday]", wantErr: `start="yesterday" is not a time`},
		{name: "bad id", line: "udp 17 5 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 id=-1", wantErr: `id="-1"`},
		{name: "bad zone", line: "udp 17 5 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 zone=x", wantErr: `zone="x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, kind, skip, err := parseLine(tc.line, time.UTC)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kind != tc.kind || skip != tc.skip {
				t.Fatalf("kind, skip = %d, %q; want %d, %q", kind, skip, tc.kind, tc.skip)
			}
			if kind != lineFlow {
				return
			}
			if diff := cmp.Diff(tc.want, got, addrOpts); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseLine checks that no line makes the parser panic, and that every
// accepted flow line has two complete tuples of one family.
func FuzzParseLine(f *testing.F) {
	f.Add("ipv4     2 tcp      6 59 CLOSE_WAIT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 [ASSURED] mark=0 use=1 id=4")
	f.Add("ipv6     10 udp      17 29 src=fd23::11 dst=fd23::12 sport=1 dport=2 [UNREPLIED] src=fd23::12 dst=fd23::11 sport=2 dport=1 [start=Thu Nov 26 10:26:01 2026] zone=1")
	f.Add("ipv4     2 icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=7 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=7")
	f.Add("conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.")
	f.Fuzz(func(t *testing.T, line string) {
		e, kind, _, err := parseLine(line, time.UTC)
		if err != nil || kind != lineFlow {
			return
		}
		all := []tuple{e.orig, e.reply}
		for _, tu := range all {
			if !tu.src.IsValid() || !tu.dst.IsValid() || tu.src.Addr().Is4() != e.orig.src.Addr().Is4() || tu.dst.Addr().Is4() != e.orig.src.Addr().Is4() {
				t.Fatalf("accepted %q as %+v", line, e)
			}
		}
		if _, skip := e.protocol(); skip != "" {
			t.Fatalf("accepted %q of skipped protocol %s", line, skip)
		}
	})
}
