package cloud

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// noisy is texture(palm) with fresh noise: another capture of that palm.
func noisy(palm, capture uint64) *image.Gray {
	img := texture(palm)
	r := rand.New(rand.NewPCG(palm, 100+capture))
	for i := range img.Pix {
		img.Pix[i] = uint8(min(255, max(0, int(img.Pix[i])+r.IntN(41)-20)))
	}
	return img
}

// enrolRecord is a version 2 palm record of the given captures.
func enrolRecord(caps ...wire.Capture) []byte {
	var rec []byte
	for _, c := range caps {
		rec = wire.AppendEnrolCapture(rec, c.Hand, c.ROI)
	}
	return rec
}

func TestEnrolSeveralCaptures(t *testing.T) {
	phone, card := []byte("+15550100"), []byte("4111111111111111")
	three := func(h wire.Hand, palm uint64) []wire.Capture {
		return []wire.Capture{{Hand: h, ROI: noisy(palm, 1)}, {Hand: h, ROI: noisy(palm, 2)}, {Hand: h, ROI: noisy(palm, 3)}}
	}
	tests := []struct {
		name       string
		caps       []wire.Capture
		want       wire.Outcome
		reason     string
		recognised []*image.Gray // identify as the enrolled subject afterwards
		strangers  []*image.Gray // not recognised afterwards
	}{
		{"both palms, three captures each", append(three(wire.Left, 1), three(wire.Right, 2)...), wire.Approved, "enrolled",
			[]*image.Gray{noisy(1, 9), noisy(2, 9)}, []*image.Gray{texture(3)}},
		{"one palm", three(wire.Right, 4), wire.Approved, "enrolled", []*image.Gray{noisy(4, 9)}, nil},
		{"a misplaced capture is not kept", []wire.Capture{{Hand: wire.Left, ROI: texture(5)},
			{Hand: wire.Left, ROI: noisy(6, 1)}, {Hand: wire.Left, ROI: noisy(6, 2)}}, wire.Approved, "enrolled",
			[]*image.Gray{noisy(6, 9)}, []*image.Gray{texture(5)}},
		{"captures of different palms", []wire.Capture{{Hand: wire.Left, ROI: texture(7)},
			{Hand: wire.Left, ROI: texture(8)}, {Hand: wire.Left, ROI: texture(9)}}, wire.Retry, "captures_disagree", nil, []*image.Gray{texture(8)}},
		{"one palm shown as both", append(three(wire.Left, 10), three(wire.Right, 10)...), wire.Retry, "same_palm", nil, []*image.Gray{noisy(10, 9)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			d := f.handle(t, f.request(t, "e", wire.FlowEnrol, parts{palm: enrolRecord(tt.caps...), phone: phone, card: card}))
			if d.Outcome != tt.want || d.Reason != tt.reason {
				t.Fatalf("enrol = %s %q, want %s %q", d.Outcome, d.Reason, tt.want, tt.reason)
			}
			if want := len(tt.recognised); (want > 0) != (f.cloud.Enrolled() == 1) {
				t.Errorf("%d enrolled after %s", f.cloud.Enrolled(), d.Outcome)
			}
			for i, roi := range tt.recognised {
				got := f.handle(t, f.request(t, fmt.Sprint("r", i), wire.FlowIdentify, parts{palm: wire.AppendCapture(nil, roi)}))
				if got.Outcome != wire.Approved || got.Subject != d.Subject {
					t.Errorf("palm %d of the enrolment: %s %q, want approved %q", i, got.Outcome, got.Subject, d.Subject)
				}
			}
			for i, roi := range tt.strangers {
				got := f.handle(t, f.request(t, fmt.Sprint("s", i), wire.FlowIdentify, parts{palm: wire.AppendCapture(nil, roi)}))
				if got.Outcome != wire.NotRecognized {
					t.Errorf("palm %d not enrolled: %s %q, want not_recognized", i, got.Outcome, got.Subject)
				}
			}
		})
	}
}

func TestEnrolBothPalmsThenDelete(t *testing.T) {
	f := newFixture(t)
	phone, card := []byte("+15550100"), []byte("4111111111111111")
	rec := enrolRecord(wire.Capture{Hand: wire.Left, ROI: noisy(1, 1)}, wire.Capture{Hand: wire.Right, ROI: noisy(2, 1)})
	if d := f.handle(t, f.request(t, "e", wire.FlowEnrol, parts{palm: rec, phone: phone, card: card})); d.Outcome != wire.Approved {
		t.Fatalf("enrol: %s %q", d.Outcome, d.Reason)
	}
	// A duplicate of either palm is refused.
	again := enrolRecord(wire.Capture{Hand: wire.Left, ROI: texture(3)}, wire.Capture{Hand: wire.Right, ROI: noisy(2, 2)})
	if d := f.handle(t, f.request(t, "e2", wire.FlowEnrol, parts{palm: again, phone: phone, card: card})); d.Reason != "duplicate_palm" {
		t.Errorf("enrolling the right palm again: %s %q, want declined duplicate_palm", d.Outcome, d.Reason)
	}
	// Deleting with the right palm and the card takes both palms.
	if d := f.handle(t, f.request(t, "d", wire.FlowDelete, parts{palm: wire.AppendCapture(nil, noisy(2, 3)), card: card})); d.Outcome != wire.Approved {
		t.Fatalf("delete: %s", d.Outcome)
	}
	for i, palm := range []uint64{1, 2} {
		if d := f.handle(t, f.request(t, fmt.Sprint("i", i), wire.FlowIdentify, parts{palm: wire.AppendCapture(nil, noisy(palm, 4))})); d.Outcome != wire.NotRecognized {
			t.Errorf("palm %d after deletion: %s", palm, d.Outcome)
		}
	}
	if n := f.cloud.Enrolled(); n != 0 {
		t.Errorf("%d enrolled after deletion", n)
	}
	// Only an enrolment carries several captures.
	if d := f.handle(t, f.request(t, "i9", wire.FlowIdentify, parts{palm: rec})); d.Reason != "unusable_capture" {
		t.Errorf("identify with an enrolment record: %s %q, want retry unusable_capture", d.Outcome, d.Reason)
	}
}

func TestRecordAtRestHoldsBothPalms(t *testing.T) {
	rest, err := newAtRest(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := func(palm uint64) match.Template {
		tm, err := match.NewTemplate(noisy(palm, 1))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	born := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	for _, palms := range [][]match.Template{{tmpl(1)}, {tmpl(1), tmpl(2)}, {tmpl(1), tmpl(2), tmpl(3), tmpl(4), tmpl(5), tmpl(6)}} {
		for _, b := range []time.Time{{}, born} {
			in := record{palms: palms, phone: [32]byte{1}, card: [32]byte{2}, born: b}
			out, err := rest.open("sub-1", rest.seal("sub-1", in))
			if err != nil {
				t.Fatalf("%d palms, born %v: %v", len(palms), b, err)
			}
			if len(out.palms) != len(palms) || out.phone != in.phone || out.card != in.card || !out.born.Equal(b) {
				t.Fatalf("%d palms, born %v: opened %d palms, born %v, tokens equal %v", len(palms), b, len(out.palms), out.born, out.phone == in.phone && out.card == in.card)
			}
		}
		in := record{palms: palms, phone: [32]byte{1}, card: [32]byte{2}}
		out, _ := rest.open("sub-1", rest.seal("sub-1", in))
		for i := range palms {
			if match.Similarity(out.palms[i], palms[i]) != 1 {
				t.Errorf("palm %d changed at rest", i)
			}
		}
	}
	// A record of one palm is laid out as records were before there were
	// two: template, phone token, card token.
	one := record{palms: []match.Template{tmpl(3)}, phone: [32]byte{4}, card: [32]byte{5}}
	b := rest.seal("sub-2", one)
	pt, err := rest.aead.Open(nil, b[:rest.aead.NonceSize()], b[rest.aead.NonceSize():], aad("sub-2"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := one.palms[0].MarshalBinary()
	want = append(append(want, one.phone[:]...), one.card[:]...)
	if !bytes.Equal(pt, want) {
		t.Error("a one-palm record is not the version 1 layout")
	}
}

// TestIdentifyAnOffRegion: a probe region placed 20 pixels off (further
// than the matcher's translation search) is recognised by every flow that
// identifies, through its poses (match.Poses); another palm placed alike
// is not.
func TestIdentifyAnOffRegion(t *testing.T) {
	moved := func(img *image.Gray, dx int) *image.Gray {
		out := image.NewGray(img.Rect)
		for y := range img.Rect.Dy() {
			for x := range img.Rect.Dx() {
				out.Pix[y*out.Stride+x] = img.Pix[y*img.Stride+min(max(x-dx, 0), img.Rect.Dx()-1)]
			}
		}
		return out
	}
	phone, card := []byte("+15550100"), []byte("4111111111111111")
	f := newFixture(t)
	rec := enrolRecord(wire.Capture{Hand: wire.Left, ROI: noisy(1, 1)}, wire.Capture{Hand: wire.Left, ROI: noisy(1, 2)}, wire.Capture{Hand: wire.Left, ROI: noisy(1, 3)})
	enrolled := f.handle(t, f.request(t, "e", wire.FlowEnrol, parts{palm: rec, phone: phone, card: card}))
	if enrolled.Outcome != wire.Approved {
		t.Fatalf("enrol: %s %q", enrolled.Outcome, enrolled.Reason)
	}
	off, stranger := moved(noisy(1, 9), 20), moved(texture(2), 20)
	a, _ := match.NewTemplate(noisy(1, 1))
	b, _ := match.NewTemplate(off)
	if s := match.Similarity(a, b); s >= match.Threshold {
		t.Fatalf("the off region matches as it is (%.3f): this does not test its poses", s)
	}
	for i, fl := range []wire.Flow{wire.FlowIdentify, wire.FlowLoyalty} {
		if d := f.handle(t, f.request(t, fmt.Sprint("i", i), fl, parts{palm: wire.AppendCapture(nil, off)})); d.Subject != enrolled.Subject {
			t.Errorf("%s with the off region: %s %q, want subject %q", fl, d.Outcome, d.Subject, enrolled.Subject)
		}
		if d := f.handle(t, f.request(t, fmt.Sprint("s", i), fl, parts{palm: wire.AppendCapture(nil, stranger)})); d.Outcome != wire.NotRecognized {
			t.Errorf("%s with another palm: %s %q, want not_recognized", fl, d.Outcome, d.Subject)
		}
	}
}
