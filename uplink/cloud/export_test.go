package cloud

// Disabled reports whether this instance holds subject's biometric
// disabled (for the tests of package cloud_test).
func (c *Cloud) Disabled(subject string) bool { return c.limits.disabled(subject) }

// ServeQueue is serveQueue (for the tests of package cloud_test).
var ServeQueue = serveQueue
