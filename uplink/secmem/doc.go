// Package secmem keeps secrets out of swap, core dumps and logs: a pool of
// fixed-size buffers in one anonymous mapping (mmap), locked in RAM (mlock)
// and marked MADV_DONTDUMP, zeroed on release; and Harden, which turns off
// core dumps and makes the process non-dumpable at start.
//
// Frame buffers, palm records and card/phone numbers live in these buffers
// until they are sealed. When RLIMIT_MEMLOCK forbids locking, the pool logs
// one warning and keeps working unlocked (Pool.Locked says which). A Buffer
// prints, logs and JSON-encodes as "[redacted N bytes]".
package secmem
