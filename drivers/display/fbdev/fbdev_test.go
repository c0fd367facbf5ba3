package fbdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palmd/palmd/drivers/display"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs under testdata/")

// fileDevice is a framebuffer backed by a regular file: the ioctls answer
// from v and f, the mmap is real.
type fileDevice struct {
	file    *os.File
	v       varScreenInfo
	f       fixScreenInfo
	closed  bool
	unmaped bool
}

func (d *fileDevice) varInfo() (varScreenInfo, error) { return d.v, nil }
func (d *fileDevice) fixInfo() (fixScreenInfo, error) { return d.f, nil }
func (d *fileDevice) mmap(size int) ([]byte, error) {
	return unix.Mmap(int(d.file.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}
func (d *fileDevice) munmap(b []byte) error { d.unmaped = true; return unix.Munmap(b) }
func (d *fileDevice) Close() error          { d.closed = true; return d.file.Close() }

var layouts = map[Format]struct {
	bpp              uint32
	red, green, blue bitfield
}{
	RGB565:   {16, bitfield{11, 5, 0}, bitfield{5, 6, 0}, bitfield{0, 5, 0}},
	XRGB8888: {32, bitfield{16, 8, 0}, bitfield{8, 8, 0}, bitfield{0, 8, 0}},
}

// newFileDevice makes a w x h framebuffer file with pad bytes after each line.
func newFileDevice(t *testing.T, format Format, w, h, pad int) *fileDevice {
	t.Helper()
	l := layouts[format]
	stride := w*int(l.bpp)/8 + pad
	file, err := os.Create(filepath.Join(t.TempDir(), "fb0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := file.Truncate(int64(stride * h)); err != nil {
		t.Fatal(err)
	}
	d := &fileDevice{file: file}
	d.v = varScreenInfo{XRes: uint32(w), YRes: uint32(h), XResVirtual: uint32(w), YResVirtual: uint32(h),
		BitsPerPixel: l.bpp, Red: l.red, Green: l.green, Blue: l.blue}
	d.f = fixScreenInfo{SmemLen: uint32(stride * h), Visual: fbVisualTrueColor, LineLength: uint32(stride)}
	return d
}

// decode reads the framebuffer file back as an image, independently of the
// driver's conversion code.
func decode(t *testing.T, d *fileDevice) *image.RGBA {
	t.Helper()
	b, err := os.ReadFile(d.file.Name())
	if err != nil {
		t.Fatal(err)
	}
	w, h, stride := int(d.v.XRes), int(d.v.YRes), int(d.f.LineLength)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var c color.RGBA
			switch d.v.BitsPerPixel {
			case 16:
				p := binary.NativeEndian.Uint16(b[y*stride+2*x:])
				r, g, bl := p>>11&0x1f, p>>5&0x3f, p&0x1f
				c = color.RGBA{uint8(r<<3 | r>>2), uint8(g<<2 | g>>4), uint8(bl<<3 | bl>>2), 0xff}
			case 32:
				p := binary.NativeEndian.Uint32(b[y*stride+4*x:])
				c = color.RGBA{uint8(p >> 16), uint8(p >> 8), uint8(p), 0xff}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

var screens = []display.Screen{
	{Name: "idle", Title: "Pay with your palm", Body: "Hover your hand above the scanner", Tone: display.Info},
	{Name: "guide", Title: "Move a little lower", Body: "Keep your palm flat and still", Tone: display.Warning},
	{Name: "approved", Title: "Approved", Body: "Card •••• 4242", Tone: display.Success},
	{Name: "spoof_rejected", Title: "Not accepted", Body: "Please use your own hand", Tone: display.Failure},
	{Name: "out_of_service", Title: "Out of service", Body: "The scanner is being repaired", Tone: display.Failure},
	{Name: "blank"},
}

func TestGoldenScreens(t *testing.T) {
	for _, format := range []Format{RGB565, XRGB8888} {
		for _, s := range screens {
			t.Run(fmt.Sprintf("%v/%s", format, s.Name), func(t *testing.T) {
				d := newFileDevice(t, format, 400, 240, 64)
				fb, err := newFB(d)
				if err != nil {
					t.Fatal(err)
				}
				if fb.Format() != format {
					t.Fatalf("format %v, want %v", fb.Format(), format)
				}
				if err := fb.Show(s); err != nil {
					t.Fatal(err)
				}
				if err := fb.Close(); err != nil {
					t.Fatal(err)
				}
				if !d.unmaped || !d.closed {
					t.Error("Close did not unmap and close the device")
				}
				got := decode(t, d)
				golden := filepath.Join("testdata", fmt.Sprintf("%s_%v.png", s.Name, format))
				if *update {
					var buf bytes.Buffer
					if err := png.Encode(&buf, got); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				f, err := os.Open(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create the goldens)", err)
				}
				defer f.Close()
				want, err := png.Decode(f)
				if err != nil {
					t.Fatal(err)
				}
				if diff := compare(got, want); diff != "" {
					t.Errorf("%s differs from the golden: %s (go test -update rewrites it after a deliberate change)", s.Name, diff)
				}
			})
		}
	}
}

func compare(got *image.RGBA, want image.Image) string {
	if got.Bounds() != want.Bounds() {
		return fmt.Sprintf("size %v, want %v", got.Bounds(), want.Bounds())
	}
	n := 0
	var first image.Point
	for y := got.Rect.Min.Y; y < got.Rect.Max.Y; y++ {
		for x := got.Rect.Min.X; x < got.Rect.Max.X; x++ {
			if got.RGBAAt(x, y) != color.RGBAModel.Convert(want.At(x, y)).(color.RGBA) {
				if n == 0 {
					first = image.Pt(x, y)
				}
				n++
			}
		}
	}
	if n > 0 {
		return fmt.Sprintf("%d pixels differ, first at %v", n, first)
	}
	return ""
}

func TestPixelEncoding(t *testing.T) {
	// The tone bar's first pixel, read raw from the file: the exact bits
	// each format must hold.
	c := display.ToneColour(display.Warning)
	tests := []struct {
		format Format
		want   []byte
	}{
		{RGB565, binary.NativeEndian.AppendUint16(nil, uint16(c.R>>3)<<11|uint16(c.G>>2)<<5|uint16(c.B>>3))},
		{XRGB8888, binary.NativeEndian.AppendUint32(nil, 0xff<<24|uint32(c.R)<<16|uint32(c.G)<<8|uint32(c.B))},
	}
	for _, tt := range tests {
		d := newFileDevice(t, tt.format, 64, 32, 0)
		fb, err := newFB(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := fb.Show(display.Screen{Title: "x", Tone: display.Warning}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(d.file.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b[:len(tt.want)], tt.want) {
			t.Errorf("%v: first pixel % x, want % x", tt.format, b[:len(tt.want)], tt.want)
		}
		if err := fb.Halt(); err != nil {
			t.Fatal(err)
		}
		b, _ = os.ReadFile(d.file.Name())
		for i := 0; i < len(b); i += len(tt.want) {
			if tt.format == RGB565 && (b[i] != 0 || b[i+1] != 0) || tt.format == XRGB8888 && (b[i] != 0 || b[i+1] != 0 || b[i+2] != 0) {
				t.Fatalf("%v: byte %d not black after Halt", tt.format, i)
			}
		}
		fb.Close()
	}
}

func TestPanOffset(t *testing.T) {
	d := newFileDevice(t, XRGB8888, 32, 64, 0)
	d.v.YRes = 32 // double-buffered: the visible half is the second one
	d.v.YOffset = 32
	fb, err := newFB(d)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	if fb.Bounds() != image.Rect(0, 0, 32, 32) {
		t.Fatalf("bounds %v", fb.Bounds())
	}
	if err := fb.Show(display.Screen{Title: "x", Tone: display.Success}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(d.file.Name())
	if !bytes.Equal(b[:32*4*32], make([]byte, 32*4*32)) {
		t.Error("the hidden half was drawn")
	}
	if binary.NativeEndian.Uint32(b[32*4*32:])&0xffffff == 0 {
		t.Error("the visible half was not drawn")
	}
}

func TestUnsupportedLayouts(t *testing.T) {
	tests := []struct {
		name string
		mod  func(d *fileDevice)
		want error
	}{
		{"BGR565", func(d *fileDevice) { d.v.Red, d.v.Blue = d.v.Blue, d.v.Red }, ErrUnsupported},
		{"8 bpp", func(d *fileDevice) { d.v.BitsPerPixel = 8 }, ErrUnsupported},
		{"pseudo colour", func(d *fileDevice) { d.f.Visual = 3 }, ErrUnsupported},
		{"grey", func(d *fileDevice) { d.v.Grayscale = 1 }, ErrUnsupported},
		{"memory too small", func(d *fileDevice) { d.f.SmemLen = 100 }, nil},
		{"stride too small", func(d *fileDevice) { d.f.LineLength = 10 }, nil},
	}
	for _, tt := range tests {
		d := newFileDevice(t, RGB565, 64, 32, 0)
		tt.mod(d)
		_, err := newFB(d)
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: newFB = %v, want %v", tt.name, err, tt.want)
		}
		d.file.Close()
	}
}

func TestShowAfterClose(t *testing.T) {
	fb, err := New(make([]byte, 16*16*2), Geometry{Width: 16, Height: 16, Stride: 32, Format: RGB565})
	if err != nil {
		t.Fatal(err)
	}
	if err := fb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fb.Show(display.Screen{Title: "x"}); err == nil {
		t.Error("Show after Close succeeded")
	}
}

func TestOpenMissing(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "fb9")); err == nil {
		t.Error("Open of a missing device succeeded")
	}
}

func BenchmarkShow(b *testing.B) {
	for _, format := range []Format{RGB565, XRGB8888} {
		b.Run(format.String(), func(b *testing.B) {
			g := Geometry{Width: 1280, Height: 800, Stride: 1280 * format.bytes(), Format: format}
			fb, err := New(make([]byte, g.Stride*g.Height), g)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := fb.Show(screens[1]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// memDevice answers the ioctls with the fuzzer's screen info and maps
// plain memory.
type memDevice struct {
	v varScreenInfo
	f fixScreenInfo
}

func (d *memDevice) varInfo() (varScreenInfo, error) { return d.v, nil }
func (d *memDevice) fixInfo() (fixScreenInfo, error) { return d.f, nil }
func (d *memDevice) mmap(size int) ([]byte, error)   { return make([]byte, size), nil }
func (d *memDevice) munmap([]byte) error             { return nil }
func (d *memDevice) Close() error                    { return nil }

func FuzzScreenInfo(f *testing.F) {
	f.Add(uint32(64), uint32(32), uint32(0), uint32(0), uint32(16), uint32(128), uint32(4096), true)
	f.Add(uint32(64), uint32(32), uint32(0), uint32(32), uint32(32), uint32(256), uint32(16384), false)
	f.Add(uint32(1<<31), uint32(1<<31), uint32(1<<31), uint32(1<<31), uint32(32), uint32(1<<31), uint32(4096), false)
	f.Fuzz(func(t *testing.T, w, h, xoff, yoff, bpp, line, smem uint32, rgb565 bool) {
		l := layouts[XRGB8888]
		if rgb565 {
			l = layouts[RGB565]
		}
		d := &memDevice{
			v: varScreenInfo{XRes: w, YRes: h, XOffset: xoff, YOffset: yoff, BitsPerPixel: bpp, Red: l.red, Green: l.green, Blue: l.blue},
			f: fixScreenInfo{SmemLen: smem % (1 << 18), Visual: fbVisualTrueColor, LineLength: line},
		}
		fb, err := newFB(d)
		if err != nil {
			return
		}
		// Whatever the kernel claims, drawing stays inside the mapping.
		if err := fb.Show(display.Screen{Title: "x"}); err != nil {
			t.Fatal(err)
		}
	})
}
