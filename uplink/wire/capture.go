package wire

import (
	"encoding/binary"
	"fmt"
	"image"
)

// captureMagic starts every plaintext palm record.
const captureMagic = "PALM1"

// MaxCaptureSide bounds the width and height of a palm record.
const MaxCaptureSide = 1024

// captureHeader is the length of the record header: magic, width, height.
const captureHeader = len(captureMagic) + 4

// CaptureSize is the length of the palm record of a w x h region, for
// sizing buffers before AppendCapture.
func CaptureSize(w, h int) int { return captureHeader + w*h }

// AppendCapture appends the plaintext palm record of roi to dst: magic,
// width and height (uint16, big endian), then the pixels row by row. This
// is the plaintext that seal.Sealer seals; callers zero it after sealing.
func AppendCapture(dst []byte, roi *image.Gray) []byte {
	return appendRegion(append(dst, captureMagic...), roi)
}

// appendRegion appends width, height and the pixels of roi.
func appendRegion(dst []byte, roi *image.Gray) []byte {
	w, h := roi.Rect.Dx(), roi.Rect.Dy()
	dst = binary.BigEndian.AppendUint16(dst, uint16(w))
	dst = binary.BigEndian.AppendUint16(dst, uint16(h))
	for y := 0; y < h; y++ {
		off := roi.PixOffset(roi.Rect.Min.X, roi.Rect.Min.Y+y)
		dst = append(dst, roi.Pix[off:off+w]...)
	}
	return dst
}

// ParseCapture decodes a palm record into a new image. b must be exactly
// one record.
func ParseCapture(b []byte) (*image.Gray, error) {
	if len(b) < captureHeader || string(b[:len(captureMagic)]) != captureMagic {
		return nil, fmt.Errorf("%w: capture header: want magic %q", ErrMalformed, captureMagic)
	}
	img, rest, err := parseRegion(b[len(captureMagic):])
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: capture length", ErrMalformed)
	}
	return img, nil
}

// parseRegion decodes width, height and pixels from the start of b into a
// new image and returns the bytes after them.
func parseRegion(b []byte) (*image.Gray, []byte, error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("%w: capture size: want 4 bytes", ErrMalformed)
	}
	w, h := int(binary.BigEndian.Uint16(b)), int(binary.BigEndian.Uint16(b[2:]))
	if w == 0 || h == 0 || w > MaxCaptureSide || h > MaxCaptureSide {
		return nil, nil, fmt.Errorf("%w: capture size %dx%d: want 1 to %d each", ErrMalformed, w, h, MaxCaptureSide)
	}
	if len(b)-4 < w*h {
		return nil, nil, fmt.Errorf("%w: capture length", ErrMalformed)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, b[4:4+w*h])
	return img, b[4+w*h:], nil
}

// enrolMagic starts version 2 of the plaintext palm record, which an
// enrolment sends: several captures of one or both palms.
const enrolMagic = "PALM2"

// Hand names the palm a capture is of.
type Hand byte

// The palms an enrolment may hold.
const (
	Left  Hand = 'L'
	Right Hand = 'R'
)

// Valid reports whether h is Left or Right.
func (h Hand) Valid() bool { return h == Left || h == Right }

// String implements fmt.Stringer.
func (h Hand) String() string {
	switch h {
	case Left:
		return "left"
	case Right:
		return "right"
	}
	return fmt.Sprintf("hand(%d)", byte(h))
}

// MaxPerHand is how many captures of one palm an enrolment record holds
// at most; MaxEnrolCaptures is the most it holds in all (both palms).
const (
	MaxPerHand       = 3
	MaxEnrolCaptures = 2 * MaxPerHand
)

// Capture is one palm region of a record and the palm it is of.
type Capture struct {
	Hand Hand
	ROI  *image.Gray
}

// EnrolSize is the length of the enrolment record of n w x h regions.
func EnrolSize(n, w, h int) int { return len(enrolMagic) + 1 + n*(1+4+w*h) }

// AppendEnrolCapture appends one capture of hand to the enrolment record
// in dst, starting the record (magic and count) if dst is empty and
// counting the capture in it: the record is built by calling it once per
// capture. Callers zero the record after sealing.
//
// Version 2 of the palm record: "PALM2", the number of captures (1 to
// MaxEnrolCaptures, at most MaxPerHand of each hand), then for each the
// hand ('L' or 'R'), width and height (uint16, big endian) and the pixels
// row by row.
func AppendEnrolCapture(dst []byte, hand Hand, roi *image.Gray) []byte {
	if len(dst) == 0 {
		dst = append(dst, enrolMagic...)
		dst = append(dst, 0)
	}
	dst[len(enrolMagic)]++
	return appendRegion(append(dst, byte(hand)), roi)
}

// ParseCaptures decodes a palm record of either version into new images:
// version 1 (ParseCapture) is one capture, of the left palm; version 2
// (AppendEnrolCapture) one to MaxEnrolCaptures. b must be exactly one
// record.
func ParseCaptures(b []byte) ([]Capture, error) {
	if len(b) >= len(captureMagic) && string(b[:len(captureMagic)]) == captureMagic {
		img, err := ParseCapture(b)
		if err != nil {
			return nil, err
		}
		return []Capture{{Hand: Left, ROI: img}}, nil
	}
	if len(b) < len(enrolMagic)+1 || string(b[:len(enrolMagic)]) != enrolMagic {
		return nil, fmt.Errorf("%w: capture header: want magic %q or %q", ErrMalformed, captureMagic, enrolMagic)
	}
	n := int(b[len(enrolMagic)])
	if n == 0 || n > MaxEnrolCaptures {
		return nil, fmt.Errorf("%w: capture count %d: want 1 to %d", ErrMalformed, n, MaxEnrolCaptures)
	}
	b = b[len(enrolMagic)+1:]
	out := make([]Capture, 0, n)
	per := map[Hand]int{}
	for range n {
		if len(b) == 0 || !Hand(b[0]).Valid() {
			return nil, fmt.Errorf("%w: capture hand: want %q or %q", ErrMalformed, Left, Right)
		}
		h := Hand(b[0])
		if per[h]++; per[h] > MaxPerHand {
			return nil, fmt.Errorf("%w: more than %d captures of the %s palm", ErrMalformed, MaxPerHand, h)
		}
		img, rest, err := parseRegion(b[1:])
		if err != nil {
			return nil, err
		}
		out = append(out, Capture{Hand: h, ROI: img})
		b = rest
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: capture length", ErrMalformed)
	}
	return out, nil
}
