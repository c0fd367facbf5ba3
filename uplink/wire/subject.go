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
// bundles to. Kiosks do not read it themselves: they ask the cloud for a
// bundle's bytes on BundleSubject (see DevicePermissions for why).
const BundleBucket = "palm_bundles"

// BundleStream is the stream behind BundleBucket.
const BundleStream = "OBJ_" + BundleBucket

// BundleChunkSubject is the subject of the chunks of the object whose
// unique id (its NUID in the object's metadata) is id.
func BundleChunkSubject(id string) string { return "$O." + BundleBucket + ".C." + id }

// ValidObjectID reports whether id, an object's unique id read from the
// bucket, is one subject token (see BundleChunkSubject).
func ValidObjectID(id string) bool { return validID(id) }

// BundleSubject is where device asks the cloud for a bundle's bytes
// (BundleRequest); the cloud answers on device's inbox only.
func BundleSubject(device string) string { return "palm.bundle." + device }

// ParseBundleSubject returns the device of a bundle subject (BundleSubject);
// ok is false for any other subject.
func ParseBundleSubject(subject string) (device string, ok bool) {
	device, ok = strings.CutPrefix(subject, "palm.bundle.")
	return device, ok && ValidDevice(device)
}

// DevicePermissions lists what device (see ValidDevice) may publish and
// subscribe to: its own request, telemetry, bundle and command subjects
// and its inbox, and the acknowledgements of its queued commands. No
// JetStream API: JetStream answers a request on whatever reply subject
// the request names, and nothing in the server checks that subject
// against the requester's permissions. A kiosk allowed direct gets on the
// bundle stream could have up to the server's max pending (64 MiB) of
// chunks a request delivered on another kiosk's command subject or on a
// subject the cloud serves, and allowed to create a consumer, have them
// delivered there without end. So the cloud reads the bucket and answers
// a kiosk's BundleRequest on that kiosk's own inbox (ReplyAllowed), as it
// answers every request.
func DevicePermissions(device string) (pub, sub []string) {
	return []string{
			RequestSubject(device, ">"), TelemetrySubject(device, ">"), CommandAckPrefix(device) + ".>",
			BundleSubject(device),
		},
		[]string{InboxPrefix(device) + ".>", CommandSubject(device, ">")}
}

// Wildcards the cloud subscribes to.
const (
	AllRequests  = "palm.req.*.*"
	AllTelemetry = "palm.tel.*.*"
	AllBundles   = "palm.bundle.*"
)
