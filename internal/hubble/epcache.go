package hubble

import (
	"bytes"
	"slices"

	flowpb "github.com/cilium/cilium/api/v1/flow"
)

// endpointCache finds endpoint objects decoded before by their exact JSON,
// so that the source and destination objects, which repeat in flow after
// flow, are validated and decoded once. A lookup does not scan for the end
// of the object: it hashes its first bytes to a bucket and compares whole
// objects with memory comparisons, which are several times faster.
//
// Entries are complete, valid JSON objects, so none is a prefix of
// another: the one that starts the input, if any, is the greatest entry
// not above the input, found by binary search in the sorted bucket (many
// replicas of one workload share the first bytes). Cached endpoints are
// shared and never modified. The cache is bounded: when full it starts
// over.
type endpointCache struct {
	buckets map[string]*epBucket
	n       int
}

// epBucket holds the entries whose input started with the same key.
type epBucket struct {
	raws [][]byte // sorted
	eps  []*flowpb.Endpoint
}

// epKeyLen is the length of the bucket key.
const epKeyLen = 32

// endpointCacheSize bounds the number of endpoints remembered.
const endpointCacheSize = 1 << 14

// epKey returns the bucket key of the input rest.
func epKey(rest []byte) []byte { return rest[:min(len(rest), epKeyLen)] }

// lookup returns the endpoint whose JSON starts rest, and its length.
func (c *endpointCache) lookup(rest []byte) (*flowpb.Endpoint, int) {
	bk := c.buckets[string(epKey(rest))]
	if bk == nil {
		return nil, 0
	}
	lo, hi := 0, len(bk.raws) // find the first entry above rest
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if bytes.Compare(bk.raws[mid], rest) <= 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo > 0 && bytes.HasPrefix(rest, bk.raws[lo-1]) {
		return bk.eps[lo-1], len(bk.raws[lo-1])
	}
	return nil, 0
}

// add remembers ep, decoded from raw, the start of rest.
func (c *endpointCache) add(rest, raw []byte, ep *flowpb.Endpoint) {
	if c.buckets == nil || c.n >= endpointCacheSize {
		c.buckets, c.n = make(map[string]*epBucket), 0
	}
	key := epKey(rest)
	bk := c.buckets[string(key)]
	if bk == nil {
		bk = &epBucket{}
		c.buckets[string(key)] = bk
	}
	i, found := slices.BinarySearchFunc(bk.raws, raw, bytes.Compare)
	if found {
		return
	}
	bk.raws = slices.Insert(bk.raws, i, bytes.Clone(raw))
	bk.eps = slices.Insert(bk.eps, i, ep)
	c.n++
}
