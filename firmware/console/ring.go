package console

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
)

// Ring keeps the last lines palmd logged, redacted, in memory, for the
// logs command. The zero value is not usable; NewRing makes one.
type Ring struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool

	// With Persist, every line is appended to file too.
	path     string
	file     *os.File
	appended int // lines appended since the file was last rewritten
}

// NewRing returns a ring of n lines (default 500).
func NewRing(n int) *Ring {
	if n <= 0 {
		n = 500
	}
	return &Ring{lines: make([]string, n)}
}

// Handler returns a slog handler that writes text lines into the ring.
// Times are written with slashes (2026/12/03 16:13:14.723), so that a date
// is not taken for a number to redact.
func (r *Ring) Handler(level slog.Leveler) slog.Handler {
	return slog.NewTextHandler(r, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.String(slog.TimeKey, a.Value.Time().UTC().Format("2006/01/02 15:04:05.000"))
		}
		return a
	}})
}

// Write implements io.Writer: each call is one log record (slog's text
// handler writes a record at a time).
func (r *Ring) Write(p []byte) (int, error) {
	line := Redact(strings.TrimRight(string(p), "\n"))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(line)
	if r.file != nil {
		// A log that cannot be written is not worth failing the record for.
		_, _ = r.file.WriteString(line + "\n")
		if r.appended++; r.appended >= 2*len(r.lines) {
			_ = r.rewrite()
		}
	}
	return len(p), nil
}

func (r *Ring) add(line string) {
	r.lines[r.next] = line
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
}

// Persist keeps the ring in the file at path too, so that it survives a
// restart: the lines already there are loaded (redacted again), and every
// new line is appended. When twice the ring's size has been appended, the
// file is rewritten with the ring's lines, so it stays bounded.
func (r *Ring) Persist(path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fh, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("console log file: %w", err)
	default:
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 0, 4096), 64<<10)
		for sc.Scan() {
			r.add(Redact(sc.Text()))
		}
		err := sc.Err()
		fh.Close()
		if err != nil {
			return fmt.Errorf("console log file %s: %w", path, err)
		}
	}
	r.path = path
	return r.rewrite()
}

// rewrite replaces the file with the ring's lines and reopens it for
// appending. Callers hold r.mu.
func (r *Ring) rewrite() error {
	if r.file != nil {
		r.file.Close()
		r.file = nil
	}
	tmp := r.path + ".tmp"
	var b strings.Builder
	for _, l := range r.last(0) {
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("console log file: %w", err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		return fmt.Errorf("console log file: %w", err)
	}
	fh, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("console log file: %w", err)
	}
	r.file, r.appended = fh, 0
	return nil
}

// Close closes the file Persist opened, if any.
func (r *Ring) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}

// Last returns up to n of the newest lines, oldest first.
func (r *Ring) Last(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last(n)
}

// last is Last for callers that hold r.mu.
func (r *Ring) last(n int) []string {
	var all []string
	if r.full {
		all = append(all, r.lines[r.next:]...)
	}
	all = append(all, r.lines[:r.next]...)
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return all
}

// longDigits is a run of seven or more digits, possibly split by spaces
// or dashes: a card or phone number.
var longDigits = regexp.MustCompile(`\d(?:[ -]?\d){6,}`)

// Redact replaces every run of seven or more digits (a card or phone
// number, however grouped) by [redacted].
func Redact(s string) string { return longDigits.ReplaceAllString(s, "[redacted]") }
