package console

import (
	"log/slog"
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
	r.lines[r.next] = line
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	return len(p), nil
}

// Last returns up to n of the newest lines, oldest first.
func (r *Ring) Last(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
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
