package hubble

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads the JSON of one line for the fast decoder. Each method
// returns ok=false when the input is invalid or merely unusual (null,
// exponents, surrogate escapes...): the caller then gives the line to the
// protojson decoder, which has the final word. The scanner never rejects.
type scanner struct {
	b   []byte
	i   int
	tmp []byte // unescaped string content, valid until the next str call
}

// plain marks the string bytes that need no attention: printable ASCII
// other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// SWAR (SIMD within a register) masks over 8 bytes loaded little-endian.
// In each mask, the lowest set bit is exact (borrows only spill upwards),
// so bits.TrailingZeros64(mask)/8 is the index of the first byte found.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// zeros marks the zero bytes of x.
func zeros(x uint64) uint64 { return (x - ones) & ^x & highs }

// quotes8 marks the '"' bytes of x.
func quotes8(x uint64) uint64 { return zeros(x ^ (ones * '"')) }

// special8 marks the bytes of x that are not plain: '"', '\\', control
// bytes and bytes of multi-byte UTF-8.
func special8(x uint64) uint64 {
	return x&highs | (x-ones*0x20)&^x&highs | quotes8(x) | zeros(x^(ones*'\\'))
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return s.b[s.i]
	}
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// eat consumes c if it is the next byte.
func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.peek()
	return s.i == len(s.b)
}

// str reads a string. The result aliases the line or s.tmp.
func (s *scanner) str() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	s.i++
	start := s.i
	b := s.b
	for i := s.i; i < len(b); {
		if i+8 <= len(b) {
			m := special8(binary.LittleEndian.Uint64(b[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return b[start:i], true
		case c == '\\':
			s.i = i
			return s.escaped(start)
		case c < 0x20:
			return nil, false
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			i += n
		}
	}
	return nil, false
}

// escaped continues str at the first backslash, unescaping into s.tmp.
func (s *scanner) escaped(start int) ([]byte, bool) {
	out := append(s.tmp[:0], s.b[start:s.i]...)
	b := s.b
	for i := s.i; i < len(b); {
		c := b[i]
		switch {
		case plain[c]:
			out = append(out, c)
			i++
		case c == '"':
			s.i, s.tmp = i+1, out
			return out, true
		case c == '\\':
			if i+1 >= len(b) {
				return nil, false
			}
			e := b[i+1]
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b[i+2:])
				if !ok || utf16.IsSurrogate(r) {
					return nil, false
				}
				out = utf8.AppendRune(out, r)
				i += 4
			default:
				return nil, false
			}
			i += 2
		case c < 0x20:
			return nil, false
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			out = append(out, b[i:i+n]...)
			i += n
		}
	}
	return nil, false
}

// hex4 reads four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// name reads a string that only matters if it equals one of a set of
// plain ASCII names (keys, enum values): it stops at the first quote
// without validating or unescaping, since a string with an escape or an
// invalid byte can never equal such a name and is then rejected by the
// caller's lookup, sending the line to protojson.
func (s *scanner) name() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	b, start := s.b, s.i+1
	j := start
	for ; j+8 <= len(b); j += 8 {
		if m := quotes8(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			j += bits.TrailingZeros64(m) / 8
			s.i = j + 1
			return b[start:j], true
		}
	}
	for ; j < len(b); j++ {
		if b[j] == '"' {
			s.i = j + 1
			return b[start:j], true
		}
	}
	return nil, false
}

// key reads an object key (see name) and the colon after it.
func (s *scanner) key() ([]byte, bool) {
	k, ok := s.name()
	return k, ok && s.eat(':')
}

// open starts an object or array.
func (s *scanner) open(c byte) bool { return s.eat(c) }

// next moves to the next member of an object or array opened with open:
// it returns more=false after the closing byte. first is true before the
// first member.
func (s *scanner) next(first bool, close byte) (more, ok bool) {
	c := s.peek()
	if c == close {
		s.i++
		return false, true
	}
	if first {
		return true, true
	}
	if c != ',' {
		return false, false
	}
	s.i++
	return true, true
}

// uint reads an unsigned integer of at most max: a plain JSON number, or
// digits in a string. Signs, fractions and exponents are left to protojson.
func (s *scanner) uint(max uint64) (uint64, bool) {
	quoted := s.peek() == '"'
	if quoted {
		s.i++
	}
	b := s.b
	i := s.i
	if i >= len(b) || b[i] < '0' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	if b[i] == '0' {
		i++
	} else {
		for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
			d := uint64(b[i] - '0')
			if v > (max-d)/10 {
				return 0, false
			}
			v = v*10 + d
		}
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E' || ('0' <= b[i] && b[i] <= '9')) {
		return 0, false
	}
	if quoted {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		i++
	}
	s.i = i
	return v, true
}

// u32 reads a uint32 field.
func (s *scanner) u32() (uint32, bool) {
	v, ok := s.uint(1<<32 - 1)
	return uint32(v), ok
}

// boolean reads true or false.
func (s *scanner) boolean() (v, ok bool) {
	switch s.peek() {
	case 't':
		if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true" {
			s.i += 4
			return true, s.delim()
		}
	case 'f':
		if len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false" {
			s.i += 5
			return false, s.delim()
		}
	}
	return false, false
}

// delim reports whether a literal is properly ended.
func (s *scanner) delim() bool {
	if s.i == len(s.b) {
		return true
	}
	switch s.b[s.i] {
	case ' ', '\t', '\n', '\r', ',', '}', ']':
		return true
	}
	return false
}

// skipString validates a string field that is not needed.
func (s *scanner) skipString() bool {
	_, ok := s.str()
	return ok
}

// strings reads an array of strings, appending them (interned) to dst.
func (s *scanner) strings(dst []string, in *interner) ([]string, bool) {
	if !s.open('[') {
		return dst, false
	}
	for first := true; ; first = false {
		more, ok := s.next(first, ']')
		if !ok {
			return dst, false
		}
		if !more {
			return dst, true
		}
		v, ok := s.str()
		if !ok {
			return dst, false
		}
		dst = append(dst, in.get(v))
	}
}

// skipStrings validates an array of strings that is not needed.
func (s *scanner) skipStrings() bool {
	if !s.open('[') {
		return false
	}
	for first := true; ; first = false {
		more, ok := s.next(first, ']')
		if !ok || !more {
			return ok
		}
		if !s.skipString() {
			return false
		}
	}
}
