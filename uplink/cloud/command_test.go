package cloud

import (
	"testing"
	"time"

	"github.com/palmd/palmd/uplink/wire"
)

// TestCommandSequence: each device's commands are numbered upwards, one
// device's numbers do not depend on another's, and a cloud started again
// (nothing stored) numbers above what it numbered before, while its clock
// goes forward.
func TestCommandSequence(t *testing.T) {
	f := newFixture(t)
	seq := func(c *Cloud, device string) uint64 {
		t.Helper()
		b, err := c.Command(device, wire.Command{Type: wire.CmdDeleteMyData, Subject: "sub-1"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := wire.Verify(f.signPub, b)
		if err != nil {
			t.Fatal(err)
		}
		return st.Command.Seq
	}
	var last uint64
	for i := range 5 {
		s := seq(f.cloud, "kiosk-1")
		if s <= last {
			t.Fatalf("command %d numbered %d after %d", i, s, last)
		}
		last = s
	}
	if other := seq(f.cloud, "kiosk-2"); other >= last {
		t.Errorf("kiosk-2's first command is %d, not independent of kiosk-1's %d", other, last)
	}
	restarted, err := New(f.cloud.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Second)
	if s := seq(restarted, "kiosk-1"); s <= last {
		t.Errorf("after a restart, numbered %d, not above %d", s, last)
	}
}
