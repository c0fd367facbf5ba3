package eval

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path"
	"strings"
)

// ErrFrame reports a frame file that is not an 8-bit greyscale PGM or PNG
// within the size limits.
var ErrFrame = errors.New("eval: bad frame")

// maxSide bounds a frame's width and height.
const maxSide = 8192

// DecodePGM reads a binary ("P5") PGM with a maximum value of at most 255:
// one byte per pixel, rows top to bottom. Comments in the header are
// skipped; pixels above the maximum value are an error.
func DecodePGM(r io.Reader) (*image.Gray, error) {
	br := bufio.NewReader(r)
	magic, err := pgmToken(br)
	if err != nil {
		return nil, err
	}
	if magic != "P5" {
		return nil, fmt.Errorf("%w: not a binary PGM (magic %q)", ErrFrame, magic)
	}
	var v [3]int
	for i := range v {
		tok, err := pgmToken(br)
		if err != nil {
			return nil, err
		}
		if len(tok) > 5 {
			return nil, fmt.Errorf("%w: header number too long", ErrFrame)
		}
		for _, c := range tok {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("%w: header field %q is not a number", ErrFrame, tok)
			}
			v[i] = v[i]*10 + int(c-'0')
		}
	}
	w, h, maxVal := v[0], v[1], v[2]
	if w < 1 || h < 1 || w > maxSide || h > maxSide {
		return nil, fmt.Errorf("%w: size %dx%d out of range", ErrFrame, w, h)
	}
	if maxVal < 1 || maxVal > 255 {
		return nil, fmt.Errorf("%w: maximum value %d is not 8-bit", ErrFrame, maxVal)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	if _, err := io.ReadFull(br, img.Pix); err != nil {
		return nil, fmt.Errorf("%w: pixels: %w", ErrFrame, err)
	}
	for _, p := range img.Pix {
		if int(p) > maxVal {
			return nil, fmt.Errorf("%w: pixel above the maximum value %d", ErrFrame, maxVal)
		}
	}
	if maxVal != 255 {
		for i, p := range img.Pix {
			img.Pix[i] = uint8((int(p)*255 + maxVal/2) / maxVal)
		}
	}
	return img, nil
}

// pgmToken reads one whitespace-delimited header token, skipping comments,
// and consumes the single whitespace byte after it.
func pgmToken(br *bufio.Reader) (string, error) {
	var tok []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", fmt.Errorf("%w: header: %w", ErrFrame, noEOF(err))
		}
		switch {
		case c == '#' && len(tok) == 0:
			if _, err := br.ReadSlice('\n'); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return "", fmt.Errorf("%w: header comment: %w", ErrFrame, noEOF(err))
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			if len(tok) > 0 {
				return string(tok), nil
			}
		default:
			if len(tok) >= 16 {
				return "", fmt.Errorf("%w: header token too long", ErrFrame)
			}
			tok = append(tok, c)
		}
	}
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// EncodePGM writes img as a binary PGM.
func EncodePGM(w io.Writer, img *image.Gray) error {
	b := img.Bounds()
	if _, err := fmt.Fprintf(w, "P5\n%d %d\n255\n", b.Dx(), b.Dy()); err != nil {
		return fmt.Errorf("eval: write pgm: %w", err)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		i := img.PixOffset(b.Min.X, y)
		if _, err := w.Write(img.Pix[i : i+b.Dx()]); err != nil {
			return fmt.Errorf("eval: write pgm: %w", err)
		}
	}
	return nil
}

// decodePNG reads an 8-bit greyscale PNG. The size and colour model in the
// header are checked before the pixels are decoded.
func decodePNG(r io.Reader) (*image.Gray, error) {
	// The signature and the IHDR chunk, which holds the size.
	var head [33]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFrame, noEOF(err))
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(head[:]))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFrame, err)
	}
	if cfg.Width > maxSide || cfg.Height > maxSide {
		return nil, fmt.Errorf("%w: size %dx%d out of range", ErrFrame, cfg.Width, cfg.Height)
	}
	// A colour or 16-bit image would be refused anyway, after allocating up
	// to 8 bytes per pixel.
	if cfg.ColorModel != color.GrayModel {
		return nil, fmt.Errorf("%w: PNG is not 8-bit greyscale", ErrFrame)
	}
	img, err := png.Decode(io.MultiReader(bytes.NewReader(head[:]), r))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFrame, err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		return nil, fmt.Errorf("%w: PNG is not 8-bit greyscale", ErrFrame)
	}
	return g, nil
}

// LoadFrame reads the frame called name (a .pgm or .png path) from root.
func LoadFrame(root *os.Root, name string) (*image.Gray, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("eval: frame: %w", err)
	}
	defer f.Close()
	var img *image.Gray
	switch strings.ToLower(path.Ext(name)) {
	case ".pgm":
		img, err = DecodePGM(f)
	case ".png":
		img, err = decodePNG(f)
	default:
		err = fmt.Errorf("%w: %q is neither .pgm nor .png", ErrFrame, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, name)
	}
	return img, nil
}
