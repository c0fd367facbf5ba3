package fbdev

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The framebuffer ioctls of linux/fb.h.
const (
	fbiogetVScreenInfo = 0x4600
	fbiogetFScreenInfo = 0x4602
	fbVisualTrueColor  = 2
)

// bitfield is struct fb_bitfield.
type bitfield struct{ Offset, Length, MSBRight uint32 }

// varScreenInfo is struct fb_var_screeninfo.
type varScreenInfo struct {
	XRes, YRes, XResVirtual, YResVirtual uint32
	XOffset, YOffset                     uint32
	BitsPerPixel, Grayscale              uint32
	Red, Green, Blue, Transp             bitfield
	NonStd, Activate, Height, Width      uint32
	AccelFlags, PixClock                 uint32
	LeftMargin, RightMargin              uint32
	UpperMargin, LowerMargin             uint32
	HSyncLen, VSyncLen, Sync, VMode      uint32
	Rotate, Colorspace                   uint32
	Reserved                             [4]uint32
}

// fixScreenInfo is struct fb_fix_screeninfo; uintptr stands for C's
// unsigned long, so the layout matches on 32- and 64-bit kernels.
type fixScreenInfo struct {
	ID                            [16]byte
	SmemStart                     uintptr
	SmemLen                       uint32
	Type, TypeAux, Visual         uint32
	XPanStep, YPanStep, YWrapStep uint16
	LineLength                    uint32
	MmioStart                     uintptr
	MmioLen                       uint32
	Accel                         uint32
	Capabilities                  uint16
	Reserved                      [2]uint16
}

// device is what the driver needs of a framebuffer device: the seam tests
// replace, as this kernel may have no framebuffer.
type device interface {
	varInfo() (varScreenInfo, error)
	fixInfo() (fixScreenInfo, error)
	mmap(size int) ([]byte, error)
	munmap(b []byte) error
	Close() error
}

// fbFile is a real framebuffer device node.
type fbFile struct{ f *os.File }

func openFile(path string) (*fbFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("fbdev: %w", err)
	}
	return &fbFile{f: f}, nil
}

func (d *fbFile) ioctl(req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, d.f.Fd(), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

func (d *fbFile) varInfo() (varScreenInfo, error) {
	var v varScreenInfo
	err := d.ioctl(fbiogetVScreenInfo, unsafe.Pointer(&v))
	return v, err
}

func (d *fbFile) fixInfo() (fixScreenInfo, error) {
	var v fixScreenInfo
	err := d.ioctl(fbiogetFScreenInfo, unsafe.Pointer(&v))
	return v, err
}

func (d *fbFile) mmap(size int) ([]byte, error) {
	return unix.Mmap(int(d.f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

func (d *fbFile) munmap(b []byte) error { return unix.Munmap(b) }

func (d *fbFile) Close() error { return d.f.Close() }
