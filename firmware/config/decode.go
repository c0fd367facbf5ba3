package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// MaxSize bounds a configuration file.
const MaxSize = 1 << 20

// checkShape walks the JSON document b against the Go type t (a struct with
// json tags) before it is decoded, so that every error can say where it is:
// a syntax error by line and column, a wrong type or an unknown or repeated
// key by line, column and field path, in the file's own terms ("want a
// number, got \"fast\"") rather than Go's.
func checkShape(b []byte, t reflect.Type) error {
	w := &walker{b: b, dec: json.NewDecoder(bytes.NewReader(b))}
	w.dec.UseNumber()
	if err := w.value(t, ""); err != nil {
		return err
	}
	start := w.next()
	if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		return w.at(start, "", "trailing data after the JSON object")
	}
	return nil
}

type walker struct {
	b   []byte
	dec *json.Decoder
}

// posError is an error at a line and column of the document, with the field
// path when there is one.
type posError struct {
	Line, Col int
	Path      string
	Msg       string
}

func (e *posError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%d:%d: %s: %s", e.Line, e.Col, e.Path, e.Msg)
}

// lineCol turns a byte offset into a 1-based line and column (in bytes).
func lineCol(b []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(b)))
	pre := b[:off]
	line := bytes.Count(pre, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(pre, '\n') + 1) + 1
	return line, col
}

func (w *walker) at(off int64, path, format string, args ...any) error {
	l, c := lineCol(w.b, off)
	return &posError{Line: l, Col: c, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// next returns the offset of the next token: past white space and the
// separators the decoder has not consumed yet.
func (w *walker) next() int64 {
	off := w.dec.InputOffset()
	for off < int64(len(w.b)) && strings.IndexByte(" \t\r\n:,", w.b[off]) >= 0 {
		off++
	}
	return off
}

func (w *walker) token(path string) (json.Token, int64, error) {
	start := w.next()
	tok, err := w.dec.Token()
	if err == nil {
		return tok, start, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// The streaming decoder's offsets are relative to what it had
		// buffered; a whole-document scan gives the absolute one.
		if errors.As(json.Unmarshal(w.b, new(any)), &se) {
			return nil, start, w.at(se.Offset-1, "", "%s", strings.TrimPrefix(se.Error(), "json: "))
		}
		return nil, start, w.at(start, "", "%s", strings.TrimPrefix(err.Error(), "json: "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if path == "" && start == 0 {
			return nil, start, w.at(start, "", "empty file: want a JSON object")
		}
		return nil, start, w.at(int64(len(w.b)), "", "unexpected end of file")
	}
	return nil, start, w.at(start, path, "%v", err)
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// textHints names the valid values of the text types a file may hold.
var textHints = map[reflect.Type]string{
	reflect.TypeFor[slog.Level](): "debug, info, warn or error",
}

// value reads one JSON value and checks it fits t.
func (w *walker) value(t reflect.Type, path string) error {
	tok, start, err := w.token(path)
	if err != nil {
		return err
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		s, ok := tok.(string)
		if !ok {
			return w.skipAndWant(tok, start, path, "a string")
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			if hint, ok := textHints[t]; ok {
				return w.at(start, path, "%q: want %s", s, hint)
			}
			return w.at(start, path, "%q: %v", s, err)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return w.skipAndWant(tok, start, path, "an object")
		}
		return w.object(t, path)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return w.skipAndWant(tok, start, path, "a list")
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, _, err := w.token(path)
		return err
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return w.skipAndWant(tok, start, path, "a string")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.skipAndWant(tok, start, path, "a number")
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return w.at(start, path, "want a whole number that fits in %d bits, got %s", t.Bits(), n)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return w.skipAndWant(tok, start, path, "true or false")
		}
	default:
		return fmt.Errorf("config: internal: no shape check for %s (%s)", path, t)
	}
	return nil
}

func (w *walker) object(t reflect.Type, path string) error {
	fields := jsonFields(t)
	seen := map[string]bool{}
	for w.dec.More() {
		tok, start, err := w.token(path)
		if err != nil {
			return err
		}
		key := tok.(string) // the decoder guarantees object keys are strings
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		f, ok := fields[key]
		if !ok {
			return w.at(start, sub, "unknown field (valid fields: %s)", strings.Join(sortedKeys(fields), ", "))
		}
		if seen[key] {
			return w.at(start, sub, "given twice")
		}
		seen[key] = true
		if err := w.value(f.Type, sub); err != nil {
			return err
		}
	}
	_, _, err := w.token(path)
	return err
}

// skipAndWant reports a value of the wrong type.
func (w *walker) skipAndWant(tok json.Token, start int64, path, want string) error {
	var got string
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			got = "an object"
		} else {
			got = "a list"
		}
	case string:
		got = strconv.Quote(v)
	case nil:
		got = "null"
	default:
		got = fmt.Sprint(v)
	}
	return w.at(start, path, "want %s, got %s", want, got)
}

// jsonFields maps the JSON names of t's exported fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f
	}
	return m
}

func sortedKeys(m map[string]reflect.StructField) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
