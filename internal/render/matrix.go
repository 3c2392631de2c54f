package render

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/netpol/netpol"
)

// Matrix is a connectivity matrix ready to print.
type Matrix struct {
	Endpoints []netpol.Endpoint
	Probes    []netpol.Probe
	// Allowed reports whether Endpoints[from] may connect to Endpoints[to]
	// with Probes[probe].
	Allowed func(from, to, probe int) bool
}

// evaluated reports whether the pair (i, j) is part of the matrix: distinct
// endpoints, not both external.
func (m Matrix) evaluated(i, j int) bool {
	return i != j && (m.Endpoints[i].Kind != netpol.EndpointExternal || m.Endpoints[j].Kind != netpol.EndpointExternal)
}

// MatrixJSON writes the matrix as the stable JSON contract
//
//	{"probes":["TCP/80"],"results":[{"from":"x/a","to":"y/b","probe":"TCP/80","allowed":true}]}
//
// with one result per ordered pair of distinct endpoints and probe, except
// between two externals, sorted by from and to (endpoint IDs, byte order)
// and then by the order of the probes. It writes one result per line.
func MatrixJSON(w io.Writer, m Matrix) error {
	bw := bufio.NewWriter(w)
	order := make([]int, len(m.Endpoints))
	ids := make([][]byte, len(m.Endpoints))
	for i := range order {
		order[i] = i
		ids[i], _ = json.Marshal(m.Endpoints[i].ID())
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(m.Endpoints[a].ID(), m.Endpoints[b].ID()) })
	probes := make([]string, len(m.Probes))
	for k, p := range m.Probes {
		probes[k] = strconv.Quote(p.String())
	}
	fmt.Fprintf(bw, "{\n  \"probes\": [%s],\n  \"results\": [", strings.Join(probes, ", "))
	first := true
	for _, i := range order {
		for _, j := range order {
			if !m.evaluated(i, j) {
				continue
			}
			for k := range m.Probes {
				if !first {
					bw.WriteByte(',')
				}
				first = false
				fmt.Fprintf(bw, "\n    {\"from\": %s, \"to\": %s, \"probe\": %s, \"allowed\": %t}", ids[i], ids[j], probes[k], m.Allowed(i, j, k))
			}
		}
	}
	if !first {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// groupSize is how many matrix columns go between two spaces.
const groupSize = 5

// MatrixTable writes one table per probe, or per set of probes with the
// same verdicts: a row per source, numbered, and a column per destination
// with the same number, its digits written top to bottom. A cell is "." when the connection is allowed, "X" when denied, "-"
// on the diagonal (an endpoint to itself) and blank between two externals.
func MatrixTable(w io.Writer, m Matrix, o Options) error {
	bw := bufio.NewWriter(w)
	n := len(m.Endpoints)
	if n == 0 {
		bw.WriteString("no endpoints\n")
		return bw.Flush()
	}
	numW := len(strconv.Itoa(n))
	idW := 0
	for _, ep := range m.Endpoints {
		idW = max(idW, len(ep.ID()))
	}
	labelW := numW + 1 + idW
	fmt.Fprintf(bw, "%s allowed, %s denied, - self; rows are sources, columns destinations\n",
		o.paint(green, "."), o.paint(red, "X"))
	for _, group := range m.sameProbes() {
		k := group[0]
		allowed, total := 0, 0
		for i := range n {
			for j := range n {
				if m.evaluated(i, j) {
					total++
					if m.Allowed(i, j, k) {
						allowed++
					}
				}
			}
		}
		var names []string
		for _, g := range group {
			names = append(names, m.Probes[g].String())
		}
		fmt.Fprintf(bw, "\n%s: %d of %d allowed\n", o.paint(bold, strings.Join(names, ", ")), allowed, total)
		writeColumnNumbers(bw, n, numW, labelW)
		for i, ep := range m.Endpoints {
			fmt.Fprintf(bw, "%*d %-*s ", numW, i+1, idW, ep.ID())
			var line strings.Builder
			for j := range n {
				if j > 0 && j%groupSize == 0 {
					line.WriteByte(' ')
				}
				line.WriteString(m.cell(i, j, k, o))
			}
			bw.WriteString(strings.TrimRight(line.String(), " "))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// sameProbes groups the probes (indexes) whose matrices are identical, in
// the order of their first probe.
func (m Matrix) sameProbes() [][]int {
	var groups [][]int
next:
	for k := range m.Probes {
		for g, group := range groups {
			if m.sameMatrix(group[0], k) {
				groups[g] = append(group, k)
				continue next
			}
		}
		groups = append(groups, []int{k})
	}
	return groups
}

func (m Matrix) sameMatrix(k1, k2 int) bool {
	for i := range m.Endpoints {
		for j := range m.Endpoints {
			if m.evaluated(i, j) && m.Allowed(i, j, k1) != m.Allowed(i, j, k2) {
				return false
			}
		}
	}
	return true
}

func (m Matrix) cell(i, j, k int, o Options) string {
	switch {
	case i == j:
		return "-"
	case !m.evaluated(i, j):
		return " "
	case m.Allowed(i, j, k):
		return o.paint(green, ".")
	}
	return o.paint(red, "X")
}

// writeColumnNumbers writes the column numbers 1..n vertically, one line per
// digit, aligned with the cells.
func writeColumnNumbers(w *bufio.Writer, n, digits, labelW int) {
	for d := digits - 1; d >= 0; d-- {
		var line strings.Builder
		line.WriteString(strings.Repeat(" ", labelW+1))
		pow := 1
		for range d {
			pow *= 10
		}
		for j := 1; j <= n; j++ {
			if j > 1 && (j-1)%groupSize == 0 {
				line.WriteByte(' ')
			}
			if j < pow {
				line.WriteByte(' ')
			} else {
				line.WriteByte(byte('0' + j/pow%10))
			}
		}
		w.WriteString(strings.TrimRight(line.String(), " "))
		w.WriteByte('\n')
	}
}
