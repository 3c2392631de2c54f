package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// document is one document of a stream.
type document struct {
	data []byte
	line int  // the 1-based line of data's first byte in the stream
	json bool // from a JSON stream rather than YAML
}

// lineError is a problem at a line of a stream.
type lineError struct {
	line int
	err  error
}

// splitStream splits a stream into documents as kubectl does
// (k8s.io/apimachinery/pkg/util/yaml): a stream whose first non-space byte
// is "{" is a sequence of JSON values; otherwise it is YAML documents
// separated by lines that start with "---" followed only by spaces or a
// comment. A leading UTF-8 byte order mark is dropped.
func splitStream(data []byte) ([]document, *lineError) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return splitJSON(data)
	}
	return splitYAML(data)
}

func splitYAML(data []byte) ([]document, *lineError) {
	var docs []document
	start, startLine, line := 0, 1, 1
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		text := data[off:next]
		if bytes.HasPrefix(text, []byte("---")) {
			rest := strings.TrimSpace(string(text[3:]))
			if rest != "" && rest[0] != '#' {
				if off > start {
					docs = append(docs, document{data: data[start:off], line: startLine})
				}
				return docs, &lineError{line, fmt.Errorf("invalid document separator %q: only spaces or a comment may follow ---", strings.TrimSpace(string(text)))}
			}
			if off > start {
				docs = append(docs, document{data: data[start:off], line: startLine})
			}
			start, startLine = next, line+1
		}
		off = next
	}
	if start < len(data) {
		docs = append(docs, document{data: data[start:], line: startLine})
	}
	return docs, nil
}

func splitJSON(data []byte) ([]document, *lineError) {
	var docs []document
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		off := int(dec.InputOffset())
		for off < len(data) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
			off++
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return docs, &lineError{lineAt(data, int(se.Offset)), fmt.Errorf("invalid JSON: %w", err)}
			}
			return docs, &lineError{lineAt(data, off), fmt.Errorf("invalid JSON: %w", err)}
		}
		docs = append(docs, document{data: raw, line: lineAt(data, off), json: true})
	}
}

// lineAt returns the 1-based line of byte offset off.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// yamlLine matches the "line N: " that YAML errors carry.
var yamlLine = regexp.MustCompile(`(?:yaml: )?line (\d+): `)

// yamlErrors turns an error of the YAML parser for a document starting at
// line first into problems at lines of the stream: one per "line N:" part,
// or one at first.
func yamlErrors(err error, first int) []lineError {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n")
	var out []lineError
	for _, part := range strings.Split(msg, "\n") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		line := first
		if m := yamlLine.FindStringSubmatchIndex(part); m != nil && m[0] == 0 {
			n, _ := strconv.Atoi(part[m[2]:m[3]])
			line, part = first+n-1, part[m[1]:]
		}
		part = strings.TrimPrefix(part, "yaml: ")
		if strings.HasPrefix(part, "key true already set") || strings.HasPrefix(part, "key false already set") {
			part += " (YAML 1.1 reads unquoted y, yes, on and true alike, and n, no, off and false alike: quote the keys)"
		}
		out = append(out, lineError{line, fmt.Errorf("invalid YAML: %s", part)})
	}
	if len(out) == 0 {
		out = append(out, lineError{first, fmt.Errorf("invalid YAML: %w", err)})
	}
	return out
}
