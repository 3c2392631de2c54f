package render

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Options are the presentation choices of the text renderers. The zero value
// prints plain text.
type Options struct {
	// Color adds ANSI colours; set it only when the output is a terminal.
	Color bool
}

// ANSI colours.
const (
	green = "\x1b[32m"
	red   = "\x1b[31m"
	bold  = "\x1b[1m"
	reset = "\x1b[0m"
)

func (o Options) paint(color, s string) string {
	if !o.Color || s == "" {
		return s
	}
	return color + s + reset
}

// cell is a table cell: its text and an optional colour.
type cell struct {
	text, color string
}

// table prints rows of cells aligned in columns separated by two spaces,
// without trailing spaces. Colour codes do not count towards widths.
func table(w io.Writer, o Options, rows [][]cell) error {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(o.paint(c.color, c.text))
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
