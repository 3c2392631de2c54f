package hubble

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"
)

// firstByte is the reference for the SWAR masks: the index of the first
// byte of w for which is holds, or 8.
func firstByte(w []byte, is func(byte) bool) int {
	for i, c := range w {
		if is(c) {
			return i
		}
	}
	return 8
}

func TestSWAR(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	interesting := []byte{0, 0x1f, 0x20, '"', '\\', 'a', 0x7f, 0x80, 0xff, '!', '#', '[', ']'}
	for range 200_000 {
		var w [8]byte
		for i := range w {
			if r.IntN(2) == 0 {
				w[i] = interesting[r.IntN(len(interesting))]
			} else {
				w[i] = byte(r.IntN(256))
			}
		}
		x := binary.LittleEndian.Uint64(w[:])
		first := func(m uint64) int {
			if m == 0 {
				return 8
			}
			return bits.TrailingZeros64(m) / 8
		}
		if got, want := first(special8(x)), firstByte(w[:], func(c byte) bool { return !plain[c] }); got != want {
			t.Fatalf("special8(% x): first %d, want %d", w, got, want)
		}
		if got, want := first(quotes8(x)), firstByte(w[:], func(c byte) bool { return c == '"' }); got != want {
			t.Fatalf("quotes8(% x): first %d, want %d", w, got, want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, s := range []string{
		"2021-06-16T16:52:13.136834446Z", "2024-02-29T23:59:59Z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00.1Z", "1969-12-31T23:59:59.5Z",
		"2000-02-29T12:00:00.000001Z", "2100-03-01T00:00:00Z",
	} {
		sec, nsec, ok := parseTimestamp([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil || sec != want.Unix() || int(nsec) != want.Nanosecond() {
			t.Errorf("parseTimestamp(%q) = %d, %d, %v; want %d, %d (%v)", s, sec, nsec, ok, want.Unix(), want.Nanosecond(), err)
		}
	}
	// Forms left to protojson: offsets, out-of-range fields, lower case,
	// too many or no fraction digits, year 0.
	for _, s := range []string{
		"2021-06-16T16:52:13+02:00", "2023-02-29T00:00:00Z", "2021-13-01T00:00:00Z", "2021-06-16t16:52:13Z",
		"2021-06-16T24:00:00Z", "2021-06-16T16:60:00Z", "2021-06-16T16:52:60Z", "2021-06-16T16:52:13.Z",
		"2021-06-16T16:52:13.1234567890Z", "0000-01-01T00:00:00Z", "2021-06-16T16:52:13", "2021-6-16T16:52:13Z",
		"2021-06-16T16:52:13,5Z", "2021-06-00T16:52:13Z", "+021-06-16T16:52:13Z",
	} {
		if _, _, ok := parseTimestamp([]byte(s)); ok {
			t.Errorf("parseTimestamp(%q) accepted it", s)
		}
	}
}

func TestScannerUint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  uint64
		want uint64
		ok   bool
	}{
		{"0", 1<<32 - 1, 0, true}, {"42,", 1<<32 - 1, 42, true}, {`"42"`, 1<<32 - 1, 42, true},
		{"4294967295", 1<<32 - 1, 1<<32 - 1, true}, {"4294967296", 1<<32 - 1, 0, false},
		{"18446744073709551615", 1<<64 - 1, 1<<64 - 1, true}, {"18446744073709551616", 1<<64 - 1, 0, false},
		{"01", 1<<32 - 1, 0, false}, {"1.0", 1<<32 - 1, 0, false}, {"1e2", 1<<32 - 1, 0, false},
		{"-1", 1<<32 - 1, 0, false}, {`"1`, 1<<32 - 1, 0, false}, {`" 1"`, 1<<32 - 1, 0, false},
		{`""`, 1<<32 - 1, 0, false}, {"", 1<<32 - 1, 0, false}, {"null", 1<<32 - 1, 0, false},
	} {
		s := scanner{b: []byte(tc.in)}
		got, ok := s.uint(tc.max)
		if got != tc.want || ok != tc.ok {
			t.Errorf("uint(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestScannerStr(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`"plain ascii, longer than eight bytes"`, "plain ascii, longer than eight bytes", true},
		{`"a\"b\\c\/d\n\u0041\u00e9"`, "a\"b\\c/d\nAé", true},
		{`"été – ok"`, "été – ok", true},
		{"\"bad \xff utf8\"", "", false}, {"\"ctl \x01\"", "", false}, {`"\ud83d\ude00"`, "", false},
		{`"\x"`, "", false}, {`"unterminated`, "", false}, {`nope`, "", false},
	} {
		s := scanner{b: []byte(tc.in)}
		got, ok := s.str()
		if string(got) != tc.want || ok != tc.ok {
			t.Errorf("str(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
