package magstripe

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/palmd/palmd/drivers/cardreader"
)

// Lines as a reader sends them; the LRC characters were computed by hand
// from ISO/IEC 7811 (XOR of the character values, sentinels included).
const (
	visaT1 = "%B4111111111111111^DOE/JANE^2512101000000000000?("
	visaT2 = ";4111111111111111=25121010000000000?8"
	mcT1   = "%B5555555555554444^PUBLIC/J Q^2708101?P"
	mcT2   = ";5555555555554444=27081010000000000?4"
)

// digitRun finds what looks like a card number (or a long part of one).
var digitRun = regexp.MustCompile(`[0-9]{6,}`)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		pan    string
		expiry string
		kind   cardreader.Kind
		err    error
	}{
		{"both tracks", visaT1 + visaT2, "4111111111111111", "2512", cardreader.Inserted, nil},
		{"track 2 only", mcT2, "5555555555554444", "2708", cardreader.Inserted, nil},
		{"track 1 only", mcT1, "5555555555554444", "2708", cardreader.Inserted, nil},
		{"track 2 then 1", visaT2 + visaT1, "4111111111111111", "2512", cardreader.Inserted, nil},
		{"removed", "CARD OUT", "", "", cardreader.Removed, nil},
		{"bad LRC track 2", strings.Replace(visaT2, "?8", "?9", 1), "", "", 0, ErrLRC},
		{"bad LRC track 1", strings.Replace(visaT1, "?(", "?)", 1), "", "", 0, ErrLRC},
		{"flipped digit", strings.Replace(visaT2, "4111", "4112", 1), "", "", 0, ErrLRC},
		{"bad Luhn", ";4111111111111112=25121010000000000?;", "", "", 0, cardreader.ErrBadPAN},
		{"month 13", ";4111111111111111=25131010000000000?9", "", "", 0, ErrFormat},
		{"tracks disagree", visaT1 + mcT2, "", "", 0, ErrFormat},
		{"cut short", visaT1[:20], "", "", 0, ErrFormat},
		{"no LRC", visaT2[:len(visaT2)-1], "", "", 0, ErrFormat},
		{"track twice", mcT2 + mcT2, "", "", 0, ErrFormat},
		{"lower case in track 1", strings.Replace(mcT1, "PUBLIC", "public", 1), "", "", 0, ErrFormat},
		{"no start sentinel", "4111111111111111=2512?", "", "", 0, ErrGarbage},
		{"wrong baud", "\xf0\x80\x1c\xfe\x00", "", "", 0, ErrGarbage},
		{"status noise", "CARD IN", "", "", 0, ErrGarbage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := parseLine([]byte(tt.line))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if digitRun.MatchString(err.Error()) {
					t.Fatalf("error %q shows card digits", err)
				}
				if ev.Card.PAN.Valid() {
					t.Fatal("an error came with a card")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != tt.kind || string(ev.Card.PAN.Digits()) != tt.pan || ev.Card.Expiry != tt.expiry {
				t.Fatalf("event %v %v %q, want %v %s… %q", ev.Kind, ev.Card.PAN, ev.Card.Expiry, tt.kind, tt.pan[:min(4, len(tt.pan))], tt.expiry)
			}
		})
	}
}

func TestLinesChunksAndOverflow(t *testing.T) {
	var l lines
	var got []string
	var errs []error
	collect := func(line []byte, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		got = append(got, string(line))
	}
	stream := []byte(mcT2 + "\r\n" + strings.Repeat("x", maxLine+10) + "\nCARD OUT\r" + "\r\n\n")
	for i := range stream { // one byte at a time
		l.feed(stream[i:i+1], collect)
	}
	if len(got) != 2 || got[0] != mcT2 || got[1] != "CARD OUT" {
		t.Errorf("lines %q", got)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrTooLong) {
		t.Errorf("errors %v, want one ErrTooLong", errs)
	}
	if !bytes.Equal(l.buf[:cap(l.buf)], make([]byte, cap(l.buf))) {
		t.Error("line buffer not zeroed")
	}
}

// events runs a stream through the line splitter and parser as the reader
// does, delivering it in two chunks cut at cut, and describes the outcome.
func events(stream []byte, cut int) []string {
	var l lines
	var out []string
	fn := func(line []byte, err error) {
		if err == nil {
			var ev cardreader.Event
			ev, err = parseLine(line)
			if err == nil {
				out = append(out, ev.Card.PAN.Last4()+"/"+ev.Card.Expiry+"/"+string(rune('0'+ev.Kind)))
				return
			}
		}
		out = append(out, "error: "+err.Error())
	}
	l.feed(stream[:cut], fn)
	l.feed(stream[cut:], fn)
	return out
}

func FuzzReaderStream(f *testing.F) {
	for _, s := range []string{visaT1 + visaT2 + "\r\n", mcT2 + "\n", mcT1 + "\r", "CARD OUT\r\n",
		visaT1[:30] + "\n", "\xf0\x80\x1c\xfe\n", strings.Replace(visaT2, "?8", "?9", 1) + "\n"} {
		f.Add([]byte(s), uint(len(s)))
		f.Add([]byte(s), uint(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, stream []byte, cut uint) {
		whole := events(stream, len(stream))
		split := events(stream, int(cut%uint(len(stream)+1)))
		if strings.Join(whole, "\n") != strings.Join(split, "\n") {
			t.Fatalf("whole stream gave %q, split %q", whole, split)
		}
		for _, e := range whole {
			if strings.HasPrefix(e, "error: ") && digitRun.MatchString(e) {
				t.Fatalf("error %q shows digits", e)
			}
		}
		// Every line alone: an event with a valid card, or an error.
		for line := range bytes.SplitSeq(stream, []byte("\n")) {
			ev, err := parseLine(bytes.TrimSuffix(line, []byte("\r")))
			if err == nil && ev.Kind == cardreader.Inserted && !ev.Card.PAN.Valid() {
				t.Fatal("inserted card without a number")
			}
		}
	})
}
