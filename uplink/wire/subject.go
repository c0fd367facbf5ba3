package wire

import "strings"

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

// ReplyAllowed reports whether reply is below device's own inbox: the only
// subject a cloud may answer a request from device on. A request naming
// any other reply subject (another kiosk's inbox, command or telemetry
// subject) is refused, never answered there.
func ReplyAllowed(device, reply string) bool {
	p := InboxPrefix(device) + "."
	return len(reply) > len(p) && strings.HasPrefix(reply, p)
}

// ParseRequestSubject splits a request subject (RequestSubject) into its
// device and flow; ok is false for any other subject.
func ParseRequestSubject(subject string) (device string, f Flow, ok bool) {
	rest, ok := strings.CutPrefix(subject, "palm.req.")
	if !ok {
		return "", "", false
	}
	device, fl, ok := strings.Cut(rest, ".")
	if !ok || !ValidDevice(device) || fl == "" || strings.Contains(fl, ".") {
		return "", "", false
	}
	return device, Flow(fl), true
}

// Commands queued for offline kiosks (JetStream): the cloud publishes a
// signed command on CommandQueueSubject; the stream CommandStream keeps it
// and the durable push consumer CommandConsumer(device) delivers it, in
// order and one at a time, on CommandDeliverSubject(device), which the
// kiosk's own command subscription covers. The kiosk acknowledges each
// command after handling it, on CommandAckPrefix(device).
const CommandStream = "PALM_CMD"

// CommandQueueSubject is where the cloud queues commands of type t for
// device.
func CommandQueueSubject(device string, t CommandType) string {
	return "palm.cmdq." + device + "." + string(t)
}

// CommandConsumer is the name of device's durable consumer on CommandStream.
func CommandConsumer(device string) string { return "cmd-" + device }

// CommandDeliverSubject is where device's queued commands are delivered.
func CommandDeliverSubject(device string) string { return CommandSubject(device, "queued") }

// CommandAckPrefix is the subject prefix of the acknowledgements of
// device's queued commands.
func CommandAckPrefix(device string) string {
	return "$JS.ACK." + CommandStream + "." + CommandConsumer(device)
}

// ValidDevice reports whether device can name a kiosk in subjects and
// permissions: 1 to 128 printable ASCII characters without spaces, '.', '*'
// or '>'. A device id with a wildcard would widen DevicePermissions to
// other kiosks' subjects.
func ValidDevice(device string) bool { return validID(device) }

// BundleBucket is the JetStream object store the cloud publishes firmware
// bundles to; every kiosk may read it (bundles are signed, not secret).
const BundleBucket = "palm_bundles"

// BundleStream is the stream behind BundleBucket.
const BundleStream = "OBJ_" + BundleBucket

// BundleChunkSubject is the subject of the chunks of the object whose
// unique id (its NUID in the object's metadata) is id.
func BundleChunkSubject(id string) string { return "$O." + BundleBucket + ".C." + id }

// ValidObjectID reports whether id, an object's unique id read from the
// bucket, is one subject token (see BundleChunkSubject).
func ValidObjectID(id string) bool { return validID(id) }

// DevicePermissions lists what device (see ValidDevice) may publish and
// subscribe to: its own request, telemetry and command subjects, and the
// JetStream API calls that read an object from BundleBucket: stream info
// and direct gets of single messages (the object's metadata, then its
// chunks one by one). No consumer: a consumer's deliver subject is its
// creator's to choose, and the server publishes there on its behalf,
// past its publish permissions, so a kiosk that could create one could
// have the bucket's chunks delivered on another kiosk's or the cloud's
// subjects.
func DevicePermissions(device string) (pub, sub []string) {
	return []string{
			RequestSubject(device, ">"), TelemetrySubject(device, ">"), CommandAckPrefix(device) + ".>",
			"$JS.API.STREAM.INFO." + BundleStream,
			"$JS.API.DIRECT.GET." + BundleStream,
			"$JS.API.DIRECT.GET." + BundleStream + ".>",
		},
		[]string{InboxPrefix(device) + ".>", CommandSubject(device, ">")}
}

// Wildcards the cloud subscribes to.
const (
	AllRequests  = "palm.req.*.*"
	AllTelemetry = "palm.tel.*.*"
)
