package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/netpol/netpol/diff"
)

// GitHubCommentLimit is the size limit of a GitHub comment body, in
// characters.
const GitHubCommentLimit = 65536

// foldRows is the number of rows above which a section is folded into a
// <details> element.
const foldRows = 10

// markdownReserve is the room kept at the end of a comment for the closing
// tags and the note that says it was cut.
const markdownReserve = 600

// DiffMarkdown renders a difference as a pull-request comment: a one-line
// verdict first, then a table per section (folded into <details> past 10
// rows), then what appeared and disappeared. It stays within limit bytes
// (GitHubCommentLimit when limit is 0 or less, which is at most that many
// characters): rows that do not fit are left out, and a note says how many
// and how to get them all.
func DiffMarkdown(w io.Writer, d Diff, limit int) error {
	if limit <= 0 {
		limit = GitHubCommentLimit
	}
	m := &markdown{budget: limit - markdownReserve}
	level, text := d.verdict()
	icon := map[string]string{"": ":white_check_mark:", "changed": ":warning:", "breaks": ":x:"}[level]
	m.line(fmt.Sprintf("%s **netpol diff**: %s", icon, text))
	m.line("")
	m.line(fmt.Sprintf("Compared `%s` with `%s` on %s.", d.Base, d.Head, probesText(d.Report)))
	if n := d.Report.Unevaluated; n > 0 {
		m.line(fmt.Sprintf("%s of observed traffic not evaluated (reserved identities, workloads on one side only, ICMP).", count(n, "edge port", "edge ports")))
	}
	for _, s := range d.sections() {
		m.section(s)
	}
	for _, inv := range []struct {
		title string
		i     diff.Inventory
	}{{"Appeared", d.Report.Appeared}, {"Disappeared", d.Report.Disappeared}} {
		m.inventory(inv.title, inv.i)
	}
	if m.omitted > 0 {
		m.out.WriteString(fmt.Sprintf("\n> :scissors: Cut at GitHub's comment size limit (65,536 characters): %s not shown. "+
			"Run `netpol diff %s %s -o json` for the full report.\n", count(m.omitted, "row", "rows"), d.Base, d.Head))
	}
	m.out.WriteString("\n<!-- netpol diff -->\n")
	_, err := io.WriteString(w, m.out.String())
	return err
}

// markdown writes a comment within a budget of bytes; once a line does not
// fit, it only counts the rows it leaves out.
type markdown struct {
	out     strings.Builder
	budget  int
	full    bool
	omitted int
}

// line writes s and a newline, unless they do not fit; it reports whether
// they did.
func (m *markdown) line(s string) bool {
	if m.full || m.out.Len()+len(s)+1 > m.budget {
		m.full = true
		return false
	}
	m.out.WriteString(s + "\n")
	return true
}

// section writes a section's table, folded when long.
func (m *markdown) section(s section) {
	if len(s.rows) == 0 {
		return
	}
	changes := 0
	for _, r := range s.rows {
		changes += r.changes
	}
	title := fmt.Sprintf("%s (%s)", s.title, count(changes, "connection", "connections"))
	fold := len(s.rows) > foldRows
	var opened bool
	if fold {
		opened = m.line("") && m.line("<details><summary><b>"+escape(title)+"</b></summary>") && m.line("")
	} else {
		opened = m.line("") && m.line("#### "+escape(title)) && m.line("")
	}
	header, rule := "| From | To | Ports | Why |", "|---|---|---|---|"
	if s.observed {
		header, rule = "| From | To | Ports | Observed | Why |", "|---|---|---|---|---|"
	}
	if opened {
		m.line(header)
		m.line(rule)
	}
	for _, r := range s.rows {
		if m.full {
			m.omitted++
			continue
		}
		cells := []string{code(r.from.String()), code(r.to.String()), escape(strings.Join(r.ports, ", "))}
		if s.observed {
			cells = append(cells, escape(evidenceText(r.ev)))
		}
		cells = append(cells, escape(strings.Join(r.reasons, "; ")))
		if !m.line("| " + strings.Join(cells, " | ") + " |") {
			m.omitted++
		}
	}
	if fold && opened {
		m.out.WriteString("\n</details>\n") // within the reserve
	}
}

// inventory writes what appeared or disappeared as a list, folded when
// long.
func (m *markdown) inventory(title string, i diff.Inventory) {
	lines := inventoryLines(i, code)
	if len(lines) == 0 {
		return
	}
	fold := len(lines) > foldRows
	var opened bool
	if fold {
		opened = m.line("") && m.line(fmt.Sprintf("<details><summary><b>%s (%d)</b></summary>", title, len(lines))) && m.line("")
	} else {
		opened = m.line("") && m.line("#### "+title) && m.line("")
	}
	for _, l := range lines {
		if !m.line("- " + l) {
			m.omitted++
		}
	}
	if fold && opened {
		m.out.WriteString("\n</details>\n")
	}
}

// code quotes s as inline code; a backtick in s (never in Kubernetes names)
// is replaced.
func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

// cellEscaper makes text safe in a table cell: pipes escaped, newlines and
// HTML brackets neutralised.
var cellEscaper = strings.NewReplacer("|", "\\|", "\n", " ", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return cellEscaper.Replace(s) }
