package magstripe

import (
	"bytes"
	"fmt"

	"github.com/palmd/palmd/drivers/cardreader"
)

// Errors of a line the reader sent. None of them carries card data.
var (
	// ErrGarbage reports bytes that are not track data: line noise, or a
	// reader talking at another baud rate.
	ErrGarbage = fmt.Errorf("magstripe: unreadable data (noise or wrong baud rate?): %w", cardreader.ErrUnreadable)
	// ErrFormat reports track data that does not follow ISO/IEC 7813: a
	// missing sentinel or separator, a cut-off track.
	ErrFormat = fmt.Errorf("magstripe: malformed track data: %w", cardreader.ErrUnreadable)
	// ErrLRC reports a track whose LRC character does not match its data.
	ErrLRC = fmt.Errorf("magstripe: LRC mismatch: %w", cardreader.ErrUnreadable)
	// ErrTooLong reports a line longer than any two tracks can be.
	ErrTooLong = fmt.Errorf("magstripe: line too long: %w", cardreader.ErrUnreadable)
)

// maxLine bounds a line: track 1 holds at most 79 characters, track 2 40,
// plus sentinels, LRCs and line ends.
const maxLine = 160

// removed is the line a dip reader sends when the card leaves.
var removed = []byte("CARD OUT")

// track is one decoded track: the sentinels, separator, character base and
// the card-number format of track 1 or 2.
type track struct {
	n         int  // 1 or 2
	start     byte // '%' or ';'
	sep       byte // '^' or '='
	base, top byte // the character set: base … top
}

var (
	track1 = track{n: 1, start: '%', sep: '^', base: 0x20, top: 0x5F}
	track2 = track{n: 2, start: ';', sep: '=', base: 0x30, top: 0x3F}
)

// parseLine decodes one line (without its line end) into an event.
func parseLine(line []byte) (cardreader.Event, error) {
	if bytes.Equal(line, removed) {
		return cardreader.Event{Kind: cardreader.Removed}, nil
	}
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			return cardreader.Event{}, ErrGarbage
		}
	}
	var tracks [3][]byte // track n's contents between sentinels at [n]
	rest := line
	for len(rest) > 0 {
		var t track
		switch rest[0] {
		case track1.start:
			t = track1
		case track2.start:
			t = track2
		default:
			return cardreader.Event{}, ErrGarbage
		}
		data, next, err := t.cut(rest)
		if err != nil {
			return cardreader.Event{}, err
		}
		if tracks[t.n] != nil {
			return cardreader.Event{}, fmt.Errorf("%w: track %d twice", ErrFormat, t.n)
		}
		tracks[t.n] = data
		rest = next
	}
	t1, t2 := tracks[1], tracks[2]
	var card cardreader.Card
	var err error
	switch {
	case t2 != nil:
		card, err = parseTrack2(t2)
		if err == nil && t1 != nil {
			err = agree(t1, card.PAN)
		}
	case t1 != nil:
		card, err = parseTrack1(t1)
	default:
		err = fmt.Errorf("%w: no track", ErrFormat)
	}
	if err != nil {
		card.PAN.Zero()
		return cardreader.Event{}, err
	}
	return cardreader.Event{Kind: cardreader.Inserted, Card: card}, nil
}

// cut splits the track at the start of s (start sentinel, data, end
// sentinel, LRC) from what follows it and checks its character set and LRC.
// It returns the data between the sentinels.
func (t track) cut(s []byte) (data, rest []byte, err error) {
	end := bytes.IndexByte(s[1:], '?')
	if end < 0 || end+2 >= len(s) {
		return nil, nil, fmt.Errorf("%w: track %d cut short", ErrFormat, t.n)
	}
	end++ // index of the end sentinel in s
	lrc := byte(0)
	for _, c := range s[:end+1] {
		if c < t.base || c > t.top {
			return nil, nil, fmt.Errorf("%w: track %d: character outside its set", ErrFormat, t.n)
		}
		lrc ^= c - t.base
	}
	if c := s[end+1]; c < t.base || c > t.top || c-t.base != lrc {
		return nil, nil, fmt.Errorf("%w: track %d", ErrLRC, t.n)
	}
	return s[1:end], s[end+2:], nil
}

// parseTrack2 reads "PAN=YYMM…" (ISO/IEC 7813 track 2).
func parseTrack2(d []byte) (cardreader.Card, error) {
	pan, after, ok := bytes.Cut(d, []byte{'='})
	if !ok {
		return cardreader.Card{}, fmt.Errorf("%w: track 2: no separator", ErrFormat)
	}
	return card(2, pan, after)
}

// parseTrack1 reads "BPAN^NAME^YYMM…" (ISO/IEC 7813 track 1, format B).
func parseTrack1(d []byte) (cardreader.Card, error) {
	if len(d) == 0 || d[0] != 'B' {
		return cardreader.Card{}, fmt.Errorf("%w: track 1: not format B", ErrFormat)
	}
	pan, after, ok := bytes.Cut(d[1:], []byte{'^'})
	if !ok {
		return cardreader.Card{}, fmt.Errorf("%w: track 1: no separator", ErrFormat)
	}
	_, after, ok = bytes.Cut(after, []byte{'^'}) // the name is dropped
	if !ok {
		return cardreader.Card{}, fmt.Errorf("%w: track 1: no name separator", ErrFormat)
	}
	return card(1, pan, after)
}

func card(n int, pan, after []byte) (cardreader.Card, error) {
	if len(after) < 4 || !digits(after[:4]) {
		return cardreader.Card{}, fmt.Errorf("%w: track %d: no expiry date", ErrFormat, n)
	}
	if mm := (after[2]-'0')*10 + after[3] - '0'; mm < 1 || mm > 12 {
		return cardreader.Card{}, fmt.Errorf("%w: track %d: expiry month out of range", ErrFormat, n)
	}
	p, err := cardreader.ParsePAN(pan)
	if err != nil {
		return cardreader.Card{}, fmt.Errorf("magstripe: track %d: %w", n, err)
	}
	return cardreader.Card{PAN: p, Expiry: string(after[:4])}, nil
}

// agree checks that track 1 names the same card as track 2's PAN.
func agree(t1 []byte, pan cardreader.PAN) error {
	c1, err := parseTrack1(t1)
	if err != nil {
		return err
	}
	defer c1.PAN.Zero()
	if !bytes.Equal(c1.PAN.Digits(), pan.Digits()) {
		return fmt.Errorf("%w: tracks 1 and 2 name different cards", ErrFormat)
	}
	return nil
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// lines splits a byte stream into lines, whatever chunks it arrives in.
type lines struct {
	buf  []byte
	long bool // the current line overflowed; skip to its end
}

// feed adds p and calls fn for each complete line, or with ErrTooLong once
// for a line that overflows. The slice passed to fn is zeroed afterwards.
func (l *lines) feed(p []byte, fn func(line []byte, err error)) {
	for _, c := range p {
		if c == '\r' || c == '\n' {
			switch {
			case l.long:
				l.long = false
			case len(l.buf) > 0:
				fn(l.buf, nil)
			}
			clear(l.buf)
			l.buf = l.buf[:0]
			continue
		}
		if l.long {
			continue
		}
		if len(l.buf) == maxLine {
			clear(l.buf)
			l.buf = l.buf[:0]
			l.long = true
			fn(nil, ErrTooLong)
			continue
		}
		l.buf = append(l.buf, c)
	}
}

// reset drops a partial line.
func (l *lines) reset() {
	clear(l.buf)
	l.buf, l.long = l.buf[:0], false
}
