package simulate

import "math/bits"

// pairIndex is what EachAllowed needs of a matrix whatever the probe: the
// indexes of each class, and the pairs allowed whatever the policies.
type pairIndex struct {
	members [][]int32  // local class -> indexes into Endpoints
	always  [][2]int32 // pairs allowed whatever the policies
}

// pairs builds the matrix's pairIndex on first use.
func (m *Matrix) pairs() *pairIndex {
	m.pairsOnce.Do(func() {
		px := &pairIndex{members: make([][]int32, m.n)}
		for i, l := range m.local {
			px.members[l] = append(px.members[l], int32(i))
		}
		m.eachAlways(func(i, j int) { px.always = append(px.always, [2]int32{int32(i), int32(j)}) })
		m.pairIdx = px
	})
	return m.pairIdx
}

// EachAllowed calls fn for every ordered pair (i, j) of distinct indexes
// into Endpoints that probe k allows, exactly the pairs for which
// Allowed(i, j, k) is true, in no particular order. It costs what the
// allowed pairs cost, not the square of the endpoints: walking a sparse
// matrix this way is much cheaper than asking Allowed of every pair.
func (m *Matrix) EachAllowed(k int, fn func(i, j int)) {
	px := m.pairs()
	members := px.members
	allowed := m.allowed[k]
	for w, word := range allowed {
		for word != 0 {
			b := w<<6 | bits.TrailingZeros64(word)
			word &= word - 1
			for _, i := range members[b/m.n] {
				for _, j := range members[b%m.n] {
					if i != j {
						fn(int(i), int(j))
					}
				}
			}
		}
	}
	for _, p := range px.always {
		i, j := int(p[0]), int(p[1])
		if !allowed.has(int(m.local[i])*m.n + int(m.local[j])) {
			fn(i, j)
		}
	}
}

// eachAlways calls fn for the pairs of distinct indexes that are allowed
// whatever the policies: two indexes of one endpoint, and a pod with the
// node it runs on, both ways.
func (m *Matrix) eachAlways(fn func(i, j int)) {
	byEndpoint := map[EndpointID][]int{}
	byNode := map[int32][]int{}
	for i, id := range m.endpoints {
		if n := m.engine.epNode[id]; n != 0 {
			byNode[n] = append(byNode[n], i)
		}
		byEndpoint[id] = append(byEndpoint[id], i)
	}
	for _, same := range byEndpoint {
		for _, i := range same {
			for _, j := range same {
				if i != j {
					fn(i, j)
				}
			}
		}
	}
	for _, on := range byNode {
		for _, i := range on {
			for _, j := range on {
				if m.endpoints[i] == m.endpoints[j] {
					continue
				}
				if toPod, fromPod := m.engine.residentPair(m.endpoints[i], m.endpoints[j]); toPod || fromPod {
					fn(i, j)
				}
			}
		}
	}
}
