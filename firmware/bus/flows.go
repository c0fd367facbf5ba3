package bus

// Event names of the point-of-sale and gate flows.
const (
	POSAnswer = "pos_answer" // the point of sale was answered (Flow, Outcome: the status, Reason)
	Voided    = "voided"     // a payment the point of sale was not told of was taken back (Reason)
	Gate      = "gate"       // the gate: pulse, passage, door_held, tailgating (Reason)
)
