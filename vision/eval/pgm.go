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

// ErrFrame reports a frame file that is not a greyscale PGM or PNG within
// the size limits.
var ErrFrame = errors.New("eval: bad frame")

// maxSide bounds a frame's width and height.
const maxSide = 8192

// DecodePGM reads a binary ("P5") PGM, rows top to bottom: one byte per
// pixel for a maximum value up to 255, two (most significant first, as
// Netpbm writes them) up to 65535, which is how a 10-bit sensor's frames
// are saved (maximum value 1023). Pixels are rescaled to 0..255, rounded,
// as the kiosk's camera driver reduces Y10 and Y16 frames to the 8 bits
// the pipeline works on. Comments in the header are skipped; pixels above
// the maximum value are an error.
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
	if maxVal < 1 || maxVal > 65535 {
		return nil, fmt.Errorf("%w: maximum value %d out of range 1..65535", ErrFrame, maxVal)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	if maxVal > 255 {
		if err := readPGM16(br, img, maxVal); err != nil {
			return nil, err
		}
		return img, nil
	}
	if _, err := io.ReadFull(br, img.Pix); err != nil {
		return nil, fmt.Errorf("%w: pixels: %w", ErrFrame, err)
	}
	for _, p := range img.Pix {
		if int(p) > maxVal {
			clear(img.Pix)
			return nil, fmt.Errorf("%w: pixel above the maximum value %d", ErrFrame, maxVal)
		}
	}
	if maxVal != 255 {
		for i, p := range img.Pix {
			img.Pix[i] = to8(int(p), maxVal)
		}
	}
	return img, nil
}

// readPGM16 reads two-byte pixels into img row by row, so that a frame
// never takes twice its size in memory.
func readPGM16(br *bufio.Reader, img *image.Gray, maxVal int) error {
	w := img.Rect.Dx()
	row := make([]byte, 2*w)
	defer clear(row)
	for y := range img.Rect.Dy() {
		if _, err := io.ReadFull(br, row); err != nil {
			clear(img.Pix)
			return fmt.Errorf("%w: pixels: %w", ErrFrame, err)
		}
		dst := img.Pix[y*img.Stride : y*img.Stride+w]
		for x := range dst {
			p := int(row[2*x])<<8 | int(row[2*x+1])
			if p > maxVal {
				clear(img.Pix)
				return fmt.Errorf("%w: pixel above the maximum value %d", ErrFrame, maxVal)
			}
			dst[x] = to8(p, maxVal)
		}
	}
	return nil
}

// to8 rescales p in 0..maxVal to 0..255, rounded.
func to8(p, maxVal int) uint8 { return uint8((p*255 + maxVal/2) / maxVal) }

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

// decodePNG reads a greyscale PNG, 8 or 16 bits a sample; 16-bit samples
// (full scale, as PNG requires of a 10-bit sensor's values) are rescaled to
// 0..255, rounded. The size and colour model in the header are checked
// before the pixels are decoded.
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
	// A colour image would be refused anyway, after allocating up to 8
	// bytes per pixel.
	if cfg.ColorModel != color.GrayModel && cfg.ColorModel != color.Gray16Model {
		return nil, fmt.Errorf("%w: PNG is not greyscale", ErrFrame)
	}
	img, err := png.Decode(io.MultiReader(bytes.NewReader(head[:]), r))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFrame, err)
	}
	switch g := img.(type) {
	case *image.Gray:
		return g, nil
	case *image.Gray16:
		defer clear(g.Pix)
		b := g.Bounds()
		out := image.NewGray(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				out.SetGray(x, y, color.Gray{Y: to8(int(g.Gray16At(x, y).Y), 65535)})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: PNG is not greyscale", ErrFrame)
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
