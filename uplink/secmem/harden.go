package secmem

// Hardening reports which process protections Harden applied.
type Hardening struct {
	// CoreDumpsOff: RLIMIT_CORE is 0.
	CoreDumpsOff bool
	// NotDumpable: prctl(PR_SET_DUMPABLE, 0) succeeded.
	NotDumpable bool
}
