package secureboot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Counter is a monotonic counter that software on the device cannot lower:
// the eMMC's replay-protected memory block or a TPM NV counter (TPMCounter)
// on a kiosk, a file (FileCounter) in the simulation and tests. A sealed
// file records the counter value it was saved at, so an older copy of the
// file, which is still correctly authenticated, is refused once the counter
// has moved on.
type Counter interface {
	// Read returns the counter's value; a counter never used reads 0.
	Read() (uint64, error)
	// Increment adds one and returns the new value.
	Increment() (uint64, error)
}

// FileCounter is a Counter in a small file. Anyone who can write the file
// can lower it: it is for the simulation build and tests, where it stands
// in for the hardware.
type FileCounter struct {
	Path string

	mu sync.Mutex
}

var _ Counter = (*FileCounter)(nil)

// Read returns the value in the file; a missing file is 0.
func (c *FileCounter) Read() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read()
}

func (c *FileCounter) read() (uint64, error) {
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("secureboot: counter: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: counter file %s", ErrMalformed, c.Path)
	}
	return v, nil
}

// Increment writes the value plus one, atomically.
func (c *FileCounter) Increment() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.read()
	if err != nil {
		return 0, err
	}
	v++
	if err := WriteFileAtomic(c.Path, []byte(strconv.FormatUint(v, 10)+"\n")); err != nil {
		return 0, fmt.Errorf("secureboot: counter: %w", err)
	}
	return v, nil
}

// WriteFileAtomic writes a temporary file beside path, syncs it, renames it
// over path and syncs the directory: after a crash path holds the old
// contents or the new, never a mixture.
func WriteFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	return err
}
