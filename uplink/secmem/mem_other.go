//go:build !linux

package secmem

import "errors"

// osMemory falls back to ordinary heap memory where mmap/mlock are not
// wired up; buffers are still zeroed on release.
type osMemory struct{}

func (osMemory) alloc(n int) ([]byte, error) { return make([]byte, n), nil }
func (osMemory) lock([]byte) error           { return errors.New("memory locking not supported here") }
func (osMemory) free([]byte) error           { return nil }

// Harden does nothing on this platform and says so.
func Harden() (Hardening, error) {
	return Hardening{}, errors.New("secmem: hardening not supported on this platform")
}
