package fbdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/palmd/palmd/drivers/display"
)

var _ display.Display = (*FB)(nil)

// ErrUnsupported reports a framebuffer whose pixel layout the driver cannot
// draw: anything but true-colour RGB565 and XRGB8888.
var ErrUnsupported = errors.New("fbdev: unsupported pixel format")

// Format is a framebuffer pixel layout.
type Format int

// Supported formats.
const (
	RGB565   Format = iota + 1 // 16 bpp: R 5 bits at 11, G 6 at 5, B 5 at 0
	XRGB8888                   // 32 bpp: R at 16, G at 8, B at 0
)

func (f Format) String() string {
	switch f {
	case RGB565:
		return "RGB565"
	case XRGB8888:
		return "XRGB8888"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// bytes is the size of one pixel.
func (f Format) bytes() int {
	if f == RGB565 {
		return 2
	}
	return 4
}

// FB is a mapped framebuffer. Its methods are safe for concurrent use.
type FB struct {
	dev    device // nil for New
	format Format
	stride int // bytes per line
	offset int // byte offset of the visible area's first pixel

	mu   sync.Mutex
	mem  []byte      // the mapped framebuffer; nil after Close
	back *image.RGBA // each screen is rendered here, then converted
}

// Open maps the framebuffer device at path, e.g. "/dev/fb0".
func Open(path string) (*FB, error) {
	d, err := openFile(path)
	if err != nil {
		return nil, err
	}
	fb, err := newFB(d)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return fb, nil
}

func newFB(d device) (*FB, error) {
	v, err := d.varInfo()
	if err != nil {
		return nil, fmt.Errorf("fbdev: FBIOGET_VSCREENINFO: %w", err)
	}
	f, err := d.fixInfo()
	if err != nil {
		return nil, fmt.Errorf("fbdev: FBIOGET_FSCREENINFO: %w", err)
	}
	format, err := formatOf(v, f)
	if err != nil {
		return nil, err
	}
	g := Geometry{Width: int(v.XRes), Height: int(v.YRes), Stride: int(f.LineLength), Format: format}
	g.Offset = int(v.YOffset)*g.Stride + int(v.XOffset)*format.bytes()
	if err := g.check(int(f.SmemLen)); err != nil {
		return nil, err
	}
	mem, err := d.mmap(int(f.SmemLen))
	if err != nil {
		return nil, fmt.Errorf("fbdev: mmap: %w", err)
	}
	fb, err := New(mem, g)
	if err != nil {
		return nil, errors.Join(err, d.munmap(mem))
	}
	fb.dev = d
	return fb, nil
}

// Geometry is the layout of framebuffer memory.
type Geometry struct {
	Width, Height int
	Stride        int // bytes from one line to the next
	Offset        int // byte offset of the visible area's first pixel
	Format        Format
}

func (g Geometry) check(size int) error {
	if g.Format != RGB565 && g.Format != XRGB8888 {
		return fmt.Errorf("%w: %v", ErrUnsupported, g.Format)
	}
	if g.Width <= 0 || g.Height <= 0 || g.Offset < 0 || g.Stride < g.Width*g.Format.bytes() ||
		g.Offset+(g.Height-1)*g.Stride+g.Width*g.Format.bytes() > size {
		return fmt.Errorf("fbdev: geometry %dx%d, %d bytes a line from byte %d, does not fit %d bytes of memory",
			g.Width, g.Height, g.Stride, g.Offset, size)
	}
	return nil
}

// New returns a display drawing into mem, framebuffer memory laid out as g
// (memory mapped by other means, or a plain buffer for tests and
// snapshots). Close does not unmap mem.
func New(mem []byte, g Geometry) (*FB, error) {
	if err := g.check(len(mem)); err != nil {
		return nil, err
	}
	return &FB{format: g.Format, stride: g.Stride, offset: g.Offset, mem: mem,
		back: image.NewRGBA(image.Rect(0, 0, g.Width, g.Height))}, nil
}

func formatOf(v varScreenInfo, f fixScreenInfo) (Format, error) {
	if f.Visual != fbVisualTrueColor || v.Grayscale != 0 {
		return 0, fmt.Errorf("%w: visual %d, grayscale %d", ErrUnsupported, f.Visual, v.Grayscale)
	}
	rgb := [3]bitfield{v.Red, v.Green, v.Blue}
	switch {
	case v.BitsPerPixel == 16 && rgb == [3]bitfield{{11, 5, 0}, {5, 6, 0}, {0, 5, 0}}:
		return RGB565, nil
	case v.BitsPerPixel == 32 && rgb == [3]bitfield{{16, 8, 0}, {8, 8, 0}, {0, 8, 0}}:
		return XRGB8888, nil
	}
	return 0, fmt.Errorf("%w: %d bpp, red %d@%d green %d@%d blue %d@%d", ErrUnsupported, v.BitsPerPixel,
		v.Red.Length, v.Red.Offset, v.Green.Length, v.Green.Offset, v.Blue.Length, v.Blue.Offset)
}

// Bounds is the visible screen's size.
func (fb *FB) Bounds() image.Rectangle { return fb.back.Rect }

// Format is the framebuffer's pixel layout.
func (fb *FB) Format() Format { return fb.format }

// Show implements display.Display.
func (fb *FB) Show(s display.Screen) error {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.mem == nil {
		return errors.New("fbdev: closed")
	}
	display.Render(fb.back, s)
	fb.flush()
	return nil
}

// flush converts the back buffer into the framebuffer; fb.mu is held.
func (fb *FB) flush() {
	w, h := fb.back.Rect.Dx(), fb.back.Rect.Dy()
	for y := range h {
		src := fb.back.Pix[y*fb.back.Stride : y*fb.back.Stride+4*w]
		dst := fb.mem[fb.offset+y*fb.stride:]
		switch fb.format {
		case RGB565:
			for x := range w {
				r, g, b := uint16(src[4*x]), uint16(src[4*x+1]), uint16(src[4*x+2])
				binary.NativeEndian.PutUint16(dst[2*x:], r>>3<<11|g>>2<<5|b>>3)
			}
		case XRGB8888:
			for x := range w {
				r, g, b := uint32(src[4*x]), uint32(src[4*x+1]), uint32(src[4*x+2])
				binary.NativeEndian.PutUint32(dst[4*x:], 0xff<<24|r<<16|g<<8|b)
			}
		}
	}
}

// Halt implements display.Display: it blanks the screen.
func (fb *FB) Halt() error { return fb.Show(display.Screen{Name: "blank"}) }

// Close unmaps the framebuffer and closes the device Open opened. Show
// fails afterwards.
func (fb *FB) Close() error {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.mem == nil || fb.dev == nil {
		fb.mem = nil
		return nil
	}
	err := fb.dev.munmap(fb.mem)
	fb.mem = nil
	return errors.Join(err, fb.dev.Close())
}
