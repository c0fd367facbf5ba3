package secmem

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// osMemory maps anonymous private memory, locks it and excludes it from
// core dumps.
type osMemory struct{}

func (osMemory) alloc(n int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	// Best effort: a kernel without MADV_DONTDUMP still honours RLIMIT_CORE=0 (see Harden).
	_ = unix.Madvise(b, unix.MADV_DONTDUMP)
	return b, nil
}

func (osMemory) lock(b []byte) error { return unix.Mlock(b) }

func (osMemory) free(b []byte) error {
	_ = unix.Munlock(b) // fails harmlessly when the lock was refused
	return unix.Munmap(b)
}

// Harden turns off core dumps (RLIMIT_CORE=0) and makes the process
// non-dumpable (no ptrace attach by the same user, no /proc/<pid>/mem).
// Call it once at process start. It applies every measure it can and
// reports which took effect; err joins the failures.
func Harden() (Hardening, error) {
	var h Hardening
	var errs []error
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		errs = append(errs, fmt.Errorf("secmem: RLIMIT_CORE: %w", err))
	} else {
		h.CoreDumpsOff = true
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		errs = append(errs, fmt.Errorf("secmem: PR_SET_DUMPABLE: %w", err))
	} else {
		h.NotDumpable = true
	}
	return h, errors.Join(errs...)
}
