package wire

// NATS subjects. Every kiosk publishes and subscribes only below its own
// device token, so its credentials can be limited to those subjects.

// RequestSubject is where device sends requests of flow.
func RequestSubject(device string, f Flow) string { return "palm.req." + device + "." + string(f) }

// TelemetrySubject is where device publishes telemetry events of type t.
func TelemetrySubject(device, t string) string { return "palm.tel." + device + "." + t }

// CommandSubject is where the cloud publishes commands of type t for device.
func CommandSubject(device string, t CommandType) string {
	return "palm.cmd." + device + "." + string(t)
}

// InboxPrefix is device's reply inbox prefix (nats.CustomInboxPrefix).
func InboxPrefix(device string) string { return "_INBOX." + device }

// ValidDevice reports whether device can name a kiosk in subjects and
// permissions: 1 to 128 printable ASCII characters without spaces, '.', '*'
// or '>'. A device id with a wildcard would widen DevicePermissions to
// other kiosks' subjects.
func ValidDevice(device string) bool { return validID(device) }

// DevicePermissions lists what device (see ValidDevice) may publish and
// subscribe to.
func DevicePermissions(device string) (pub, sub []string) {
	return []string{RequestSubject(device, ">"), TelemetrySubject(device, ">")},
		[]string{InboxPrefix(device) + ".>", CommandSubject(device, ">")}
}

// Wildcards the cloud subscribes to.
const (
	AllRequests  = "palm.req.*.*"
	AllTelemetry = "palm.tel.*.*"
)
