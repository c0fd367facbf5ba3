package console

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLine is the longest line the console reads; longer ones are refused
// whole.
const MaxLine = 1024

// maxArgs bounds the words of one command.
const maxArgs = 16

// Line is one parsed command line.
type Line struct {
	Name string   // the command: "status", "test", …
	Args []string // the words after it
	JSON bool     // --json or "| json": answer in one JSON object
}

// ErrEmpty is an empty (or blank) line: nothing to do.
var ErrEmpty = errors.New("empty line")

// Parse splits a command line into words. Words are separated by spaces or
// tabs; "--json" anywhere or a trailing "| json" (in any case, like the
// command's name) asks for JSON. Only
// printable ASCII is accepted: binary noise is refused, never interpreted.
func Parse(s string) (Line, error) {
	s = strings.TrimRight(s, "\r\n")
	if len(s) > MaxLine {
		return Line{}, fmt.Errorf("line: %d bytes, at most %d", len(s), MaxLine)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' || c > '~') && c != '\t' {
			return Line{}, fmt.Errorf("line: byte %d is 0x%02x: want printable ASCII", i+1, c)
		}
	}
	words := strings.Fields(s)
	if n := len(words); n >= 2 && words[n-2] == "|" {
		if !strings.EqualFold(words[n-1], "json") {
			return Line{}, fmt.Errorf("line: pipe to %q: want \"| json\"", words[n-1])
		}
		words = words[:n-2]
		words = append(words, "--json")
	}
	var l Line
	for _, w := range words {
		switch {
		case strings.EqualFold(w, "--json"): // as case-blind as the command's name
			l.JSON = true
		case w == "|":
			return Line{}, errors.New("line: a pipe goes last: \"| json\"")
		case l.Name == "":
			l.Name = strings.ToLower(w)
		default:
			l.Args = append(l.Args, w)
		}
	}
	if l.Name == "" {
		return l, ErrEmpty
	}
	if len(l.Args) > maxArgs {
		return Line{}, fmt.Errorf("line: %d arguments, at most %d", len(l.Args), maxArgs)
	}
	return l, nil
}
