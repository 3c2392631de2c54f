package simulate

import "math/bits"

// EachAllowed calls fn for every ordered pair (i, j) of distinct indexes
// into Endpoints that probe k allows, exactly the pairs for which
// Allowed(i, j, k) is true, in no particular order. It costs what the
// allowed pairs cost, not the square of the endpoints: walking a sparse
// matrix this way is much cheaper than asking Allowed of every pair.
func (m *Matrix) EachAllowed(k int, fn func(i, j int)) {
	members := make([][]int32, m.n)
	for i, l := range m.local {
		members[l] = append(members[l], int32(i))
	}
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
	m.eachAlways(func(i, j int) {
		if !allowed.has(int(m.local[i])*m.n + int(m.local[j])) {
			fn(i, j)
		}
	})
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
