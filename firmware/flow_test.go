package firmware

import (
	"testing"

	"github.com/palmd/palmd/uplink/wire"
)

// The flow table and the wire's flow list name the same flows, each once,
// and no two flows share a trigger.
func TestFlowTableMatchesTheWire(t *testing.T) {
	names := map[wire.Flow]bool{}
	triggers := map[trigger]wire.Flow{}
	for _, f := range flows {
		if !f.name.Valid() {
			t.Errorf("flow %q is not a wire flow: the cloud would refuse it", f.name)
		}
		if names[f.name] {
			t.Errorf("flow %q registered twice", f.name)
		}
		names[f.name] = true
		if other, ok := triggers[f.trigger]; ok || f.trigger == noTrigger {
			t.Errorf("flow %q: trigger %d already starts %q (or is none)", f.name, f.trigger, other)
		}
		triggers[f.trigger] = f.name
		if f.run == nil {
			t.Errorf("flow %q has no steps", f.name)
		}
	}
	for _, w := range []wire.Flow{wire.FlowEnrol, wire.FlowIdentify, wire.FlowDelete} {
		if !names[w] {
			t.Errorf("wire flow %q has no flow at the kiosk", w)
		}
	}
}
