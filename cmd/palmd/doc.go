// Command palmd is the daemon inside a contactless palm kiosk.
//
// Usage:
//
//	palmd [flags]            run the kiosk until SIGINT/SIGTERM
//	palmd -scenario NAME     play a scripted scenario on simulated hardware and
//	                         exit 0 only if every expectation in it held
//	palmd -t [flags]         validate the configuration and exit
//	palmd selftest [flags]   exercise each hardware part, one line per part
//
// Flags override the configuration file:
//
//	-config FILE     JSON configuration (see README.md)
//	-hw sim|linux    simulated hardware or the Linux drivers the config names
//	-nats URL        the cloud's NATS server; empty starts an embedded server
//	                 and the reference cloud in-process
//	-scenario NAME   a built-in scenario (demo, delete, attacks, quality) or a file
//	-snapshot FILE   with -scenario: save the final screen as a PNG
//	-screens DIR     with -scenario: save every screen it showed, in order
//	-web ADDR        serve the kiosk page (screen, events, simulator controls)
//	                 on a loopback address; with -scenario, run on after it
//	-log-level L     debug, info, warn or error
//
// Once provisioned, palmd keeps its state in update.dir on the data
// partition (state.go): a device key, the sealed command sequence (a cloud
// command replayed after a restart is refused) and the sealed A/B slot
// state. Update commands (update.go) fetch the named bundle from the cloud's
// object store, install it through secureboot's Updater (RAUC on the kiosk,
// two slot files in the simulation) with the kiosk in its updating mode,
// reboot into the trial slot once the running session is over (in the
// simulation the reboot is emulated in-process: the boot loader's decision
// is taken again and the updater reopened on the slot it chose), and commit
// once palmd is healthy after READY. Signed config commands
// (update_config.go) are verified against the config minimum, saved over
// the config file and, for the log level, applied at once. Each outcome is
// an "update" or "config" event, which telemetry carries to the cloud.
//
// Events go to standard output as JSON lines, one object per event with an
// "event" field; logs (log/slog) go to standard error. Neither ever carries
// frame bytes, card numbers or phone numbers.
package main
