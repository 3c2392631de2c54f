package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/netpol/netpol/recipes"
)

// RecipeList prints the recipes as a table of names and titles, in
// catalogue order.
func RecipeList(w io.Writer, all []recipes.Recipe) error {
	rows := [][]cell{{{text: "NAME"}, {text: "DESCRIPTION"}}}
	for _, r := range all {
		rows = append(rows, []cell{{text: r.Name}, {text: r.Title}})
	}
	return table(w, Options{}, rows)
}

// RecipeShow prints a recipe for people: its title, what it does, when to
// use it, its parameters, the recipes its example applies with it, and the
// example's rendered YAML.
func RecipeShow(w io.Writer, r recipes.Recipe, example []byte) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n", r.Name, r.Title)
	b.WriteString("What it does:\n" + wrap(r.Does, "  ", 78) + "\n")
	b.WriteString("When to use it:\n" + wrap(r.When, "  ", 78) + "\n")
	b.WriteString("Parameters (--set PARAM=VALUE):\n")
	for _, p := range r.Params {
		switch {
		case p.Required:
			fmt.Fprintf(&b, "  %s (%s, required)\n", p.Name, p.Kind)
		case p.Default != "":
			fmt.Fprintf(&b, "  %s (%s, default %q)\n", p.Name, p.Kind, p.Default)
		default:
			fmt.Fprintf(&b, "  %s (%s, optional)\n", p.Name, p.Kind)
		}
		b.WriteString(wrap(p.Help, "      ", 78))
	}
	if len(r.Example.With) > 0 {
		var with []string
		for _, u := range r.Example.With {
			with = append(with, u.Recipe)
		}
		b.WriteString("\nUsually applied with: " + strings.Join(with, ", ") + "\n")
	}
	b.WriteString("\nExample:\n")
	b.Write(example)
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap fills text into lines of at most width characters (longer words
// stand alone), each starting with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}
