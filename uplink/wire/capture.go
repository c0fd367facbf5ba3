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
	w, h := roi.Rect.Dx(), roi.Rect.Dy()
	dst = append(dst, captureMagic...)
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
		return nil, fmt.Errorf("%w: capture header", ErrMalformed)
	}
	w := int(binary.BigEndian.Uint16(b[len(captureMagic):]))
	h := int(binary.BigEndian.Uint16(b[len(captureMagic)+2:]))
	if w == 0 || h == 0 || w > MaxCaptureSide || h > MaxCaptureSide {
		return nil, fmt.Errorf("%w: capture size %dx%d", ErrMalformed, w, h)
	}
	if len(b)-captureHeader != w*h {
		return nil, fmt.Errorf("%w: capture length", ErrMalformed)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, b[captureHeader:])
	return img, nil
}
