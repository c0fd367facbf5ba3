package bus

// Event names of the point-of-sale and gate flows.
const (
	POSAnswer  = "pos_answer"  // the point of sale was answered (Flow, Outcome: the status, Reason)
	Voided     = "voided"      // a payment the point of sale was not told of was taken back (Session that charged it, Reason)
	VoidQueued = "void_queued" // such a void got no approved answer: it waits in the queue, retried until it is voided
	Gate       = "gate"        // the gate: pulse, passage, door_held, tailgating (Reason)
)
