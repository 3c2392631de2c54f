package hubble

import "math"

// stringObject validates an object whose fields are all strings.
func (d *fastDecoder) stringObject(keys func([]byte) int) bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		_, more, ok := d.member(first, keys, &seen)
		if !ok || !more {
			return ok
		}
		if !s.skipString() {
			return false
		}
	}
}

// internObject decodes an object whose fields are all strings; the value
// of field id goes to out[id-1].
func (d *fastDecoder) internObject(keys func([]byte) int, out []string) bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, keys, &seen)
		if !ok || !more {
			return ok
		}
		b, ok := s.str()
		if !ok {
			return false
		}
		out[id-1] = d.in.get(b)
	}
}

// u32Object validates an object whose fields are all uint32.
func (d *fastDecoder) u32Object(keys func([]byte) int) bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		_, more, ok := d.member(first, keys, &seen)
		if !ok || !more {
			return ok
		}
		if _, ok := s.u32(); !ok {
			return false
		}
	}
}

// boolObject validates an object whose fields are all booleans.
func (d *fastDecoder) boolObject(keys func([]byte) int) bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		_, more, ok := d.member(first, keys, &seen)
		if !ok || !more {
			return ok
		}
		if _, ok := s.boolean(); !ok {
			return false
		}
	}
}

// objects validates an array of objects, each with one.
func (d *fastDecoder) objects(keys func([]byte) int, one func(func([]byte) int) bool) bool {
	s := &d.s
	if !s.open('[') {
		return false
	}
	for first := true; ; first = false {
		more, ok := s.next(first, ']')
		if !ok || !more {
			return ok
		}
		if !one(keys) {
			return false
		}
	}
}

// eventType validates a CiliumEventType (two int32; negative values are
// left to protojson).
func (d *fastDecoder) eventType() bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		_, more, ok := d.member(first, eventTypeKey, &seen)
		if !ok || !more {
			return ok
		}
		if _, ok := s.uint(math.MaxInt32); !ok {
			return false
		}
	}
}

// networkInterface validates a NetworkInterface.
func (d *fastDecoder) networkInterface() bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, indexNameKey, &seen)
		if !ok || !more {
			return ok
		}
		if id == 1 {
			_, ok = s.u32()
		} else {
			ok = s.skipString()
		}
		if !ok {
			return false
		}
	}
}

// policies validates an array of Policy.
func (d *fastDecoder) policies() bool {
	return d.objects(policyKey, d.policy)
}

// policy validates one Policy.
func (d *fastDecoder) policy(keys func([]byte) int) bool {
	s := &d.s
	if !s.open('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		id, more, ok := d.member(first, keys, &seen)
		if !ok || !more {
			return ok
		}
		switch id {
		case polName, polNamespace, polKind:
			ok = s.skipString()
		case polLabels:
			ok = s.skipStrings()
		case polRevision:
			_, ok = s.uint(math.MaxUint64)
		}
		if !ok {
			return false
		}
	}
}

// parseTimestamp reads the usual RFC 3339 form of a protojson Timestamp,
// "2006-01-02T15:04:05.999999999Z" (1 to 9 fraction digits or none), in
// years 0001 to 9999. Other forms (offsets, lower case) are not ok and
// are left to protojson.
func parseTimestamp(b []byte) (sec int64, nsec int32, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return 0, 0, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	h, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	se, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		y < 1 || mo < 1 || mo > 12 || day < 1 || day > daysIn(mo, y) || h > 23 || mi > 59 || se > 59 {
		return 0, 0, false
	}
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, 0, false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return 0, 0, false
		}
		for i := len(frac) - 1; i < 9; i++ {
			n *= 10
		}
		nsec = int32(n)
	}
	days := daysFromCivil(int64(y), int64(mo), int64(day))
	return days*86400 + int64(h)*3600 + int64(mi)*60 + int64(se), nsec, true
}

// digits reads a run of decimal digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn returns the number of days of month m in year y.
func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
