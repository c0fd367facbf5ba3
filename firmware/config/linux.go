package config

// Linux names the kiosk's real devices. (Filled in by the Linux drivers work.)
type Linux struct{}

// Validate reports the first field that is wrong, by its JSON name.
func (l Linux) Validate() error { return nil }
