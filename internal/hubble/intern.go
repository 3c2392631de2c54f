package hubble

// interner returns one shared string per distinct byte content, so that
// the names, labels and addresses repeated in every flow are allocated
// once. It is bounded: when full it starts over.
type interner struct {
	m    map[string]string
	last string
}

// internSize bounds the number of strings remembered.
const internSize = 1 << 16

// get returns b as a string, shared with earlier equal strings.
func (in *interner) get(b []byte) string {
	if string(b) == in.last {
		return in.last
	}
	if s, ok := in.m[string(b)]; ok {
		in.last = s
		return s
	}
	if in.m == nil || len(in.m) >= internSize {
		in.m = make(map[string]string, 1024)
	}
	s := string(b)
	in.m[s], in.last = s, s
	return s
}
