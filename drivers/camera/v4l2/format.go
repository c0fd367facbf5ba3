package v4l2

import (
	"fmt"
	"image"

	"github.com/blackjack/webcam"
)

// Pixel formats (V4L2 fourcc codes) the driver converts from.
const (
	GREY = webcam.PixelFormat('G' | 'R'<<8 | 'E'<<16 | 'Y'<<24) // 8-bit grey
	Y10  = webcam.PixelFormat('Y' | '1'<<8 | '0'<<16 | ' '<<24) // 10-bit grey in little-endian 16-bit words
	Y10P = webcam.PixelFormat('Y' | '1'<<8 | '0'<<16 | 'P'<<24) // 10-bit grey, 4 pixels in 5 bytes (MIPI RAW10)
	Y16  = webcam.PixelFormat('Y' | '1'<<8 | '6'<<16 | ' '<<24) // 16-bit grey, little-endian
	YUYV = webcam.PixelFormat('Y' | 'U'<<8 | 'Y'<<16 | 'V'<<24) // YUV 4:2:2; the luma is used
)

// preference is the order Open picks formats in when asked for "auto":
// formats that carry 8 bits of grey most cheaply first.
var preference = []webcam.PixelFormat{GREY, Y10P, Y10, Y16, YUYV}

var formatNames = map[string]webcam.PixelFormat{"GREY": GREY, "Y10": Y10, "Y10P": Y10P, "Y16": Y16, "YUYV": YUYV}

// fourcc spells a format code.
func fourcc(f webcam.PixelFormat) string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// minStride is the fewest bytes one line of width w takes in format f.
func minStride(f webcam.PixelFormat, w int) int {
	switch f {
	case GREY:
		return w
	case Y10P:
		return w / 4 * 5
	default: // Y10, Y16, YUYV
		return 2 * w
	}
}

// convert writes the frame src, in format f, into dst, whose bounds give
// the frame size. Lines may be padded for alignment: the stride is taken
// from the frame's length. It does not allocate.
func convert(f webcam.PixelFormat, src []byte, dst *image.Gray) error {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	line := minStride(f, w)
	if h == 0 || len(src) < line*h {
		return fmt.Errorf("v4l2: short frame: %d bytes, want %d", len(src), line*h)
	}
	stride := len(src) / h
	// Drivers pad lines for alignment only; a frame much longer than the
	// mode is another mode (a driver that changed the size it was asked for).
	if len(src)%h != 0 || stride-line > max(line/4, 128) {
		return fmt.Errorf("v4l2: frame of %d bytes does not fit %dx%d %s", len(src), w, h, fourcc(f))
	}
	for y := range h {
		s := src[y*stride : y*stride+line]
		d := dst.Pix[y*dst.Stride : y*dst.Stride+w]
		switch f {
		case GREY:
			copy(d, s)
		case Y10:
			for x := range d {
				d[x] = byte((uint16(s[2*x]) | uint16(s[2*x+1])<<8) >> 2)
			}
		case Y16:
			for x := range d {
				d[x] = s[2*x+1]
			}
		case YUYV:
			for x := range d {
				d[x] = s[2*x]
			}
		case Y10P:
			for x := 0; x+3 < w; x += 4 {
				copy(d[x:x+4], s[x/4*5:x/4*5+4])
			}
		default:
			return fmt.Errorf("v4l2: no conversion from %s", fourcc(f))
		}
	}
	return nil
}
