//go:build sim

package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
)

// TestEnrolThenIdentify enrols a new person and identifies the same palm at
// once, session after session, on the simulation build (the whole palmd,
// the embedded NATS server and reference cloud, on the frame clock:
// playOnFrameClock): 100 people with PALMD_EVAL=1 (make eval); 5 otherwise
// (skipped with -short).
// The target is 99 of 100 approved as themselves (the README lists each
// run's count; the lighting pattern is drawn from crypto/rand per burst,
// so runs differ); the test logs a miss of it and fails below a regression
// bound, enrolShortfall, so that one unlucky extra miss does not fail CI.
// The 5-person run allows one miss for the same reason. Each enrolment
// (card read to decision, three captures of one palm) takes under a minute
// of the frame clock: the sensor's time, in which rendering and palmd's
// work take none (their cost per frame is make bench's). Everyone enrolled
// stays enrolled, so the last identifications search among 100 people and
// must find the right one. enrolTarget is the figure for 100
// people; enrolShortfall the bound held.
const enrolTarget, enrolShortfall = 99, 97

func TestEnrolThenIdentify(t *testing.T) {
	if testing.Short() {
		t.Skip("a statistical evaluation: 5 people in the full pass, 100 in make eval")
	}
	people, least := 5, 4
	if os.Getenv("PALMD_EVAL") != "" {
		people, least = 100, enrolShortfall
	}
	sc := sim.Scenario{Name: "enrol_then_identify"}
	any := "approved|declined|not_recognized|spoof_rejected|retry"
	step := func(s sim.Step) { sc.Steps = append(sc.Steps, s) }
	for i := range people {
		name := fmt.Sprintf("enrol-identify-%03d", i)
		step(sim.Step{Expect: &sim.Expect{Event: bus.Screen, Screen: "idle"}})
		step(sim.Step{InsertCard: "4539578763621486"})
		step(sim.Step{Expect: &sim.Expect{Event: bus.Screen, Screen: "enter_phone"}})
		step(sim.Step{Type: fmt.Sprintf("55501%05d[enter]", i)})
		step(sim.Step{Expect: &sim.Expect{Event: bus.Screen, Screen: "hover"}})
		step(sim.Step{Hover: &sim.HoverStep{Person: name}})
		step(sim.Step{Expect: &sim.Expect{Event: bus.Decision, Flow: "enrol", Outcome: any}})
		step(sim.Step{Withdraw: true})
		step(sim.Step{RemoveCard: true})
		step(sim.Step{Expect: &sim.Expect{Event: bus.Screen, Screen: "idle"}})
		step(sim.Step{Hover: &sim.HoverStep{Person: name}})
		step(sim.Step{Expect: &sim.Expect{Event: bus.Decision, Flow: "identify", Outcome: any}})
		step(sim.Step{Withdraw: true})
	}
	step(sim.Step{Expect: &sim.Expect{Event: bus.Screen, Screen: "idle"}})

	start := time.Now() // the machine's time: onFrameClock's moves with the frames
	_, evs, err := playOnFrameClock(t, sc, time.Duration(people)*time.Minute)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}

	began := map[string]time.Time{} // session → its first event
	var enrolled, approved int
	var slowest time.Duration
	var subject, enrolment string
	var misses []string
	for _, ev := range evs {
		if _, ok := began[ev.Session]; !ok && ev.Session != "" {
			began[ev.Session] = ev.Time
		}
		if ev.Event != bus.Decision {
			continue
		}
		switch ev.Flow {
		case "enrol":
			slowest = max(slowest, ev.Time.Sub(began[ev.Session]))
			subject, enrolment = "", ev.Outcome+" "+ev.Reason
			if ev.Outcome == "approved" {
				enrolled++
				subject = ev.Subject
			}
		case "identify":
			if ev.Outcome == "approved" && subject != "" && ev.Subject == subject {
				approved++
			} else {
				misses = append(misses, fmt.Sprintf("person %d: enrol %s, identify %s %s", approved+len(misses), enrolment, ev.Outcome, ev.Reason))
			}
		}
	}
	t.Logf("%d people: %d enrolled, %d identified as themselves at once; slowest enrolment %v of the frame clock; %v of this machine's in all (%v a person)",
		people, enrolled, approved, slowest.Round(time.Millisecond), elapsed.Round(time.Second), (elapsed / time.Duration(people)).Round(time.Millisecond))
	for _, m := range misses {
		t.Log(m)
	}
	if people == 100 && approved < enrolTarget {
		t.Logf("%d of 100 misses the target of %d (known shortfall, bound %d)", approved, enrolTarget, enrolShortfall)
	}
	if approved < least {
		t.Errorf("%d of %d enrolments were identified at once, want at least %d", approved, people, least)
	}
	if slowest >= time.Minute {
		t.Errorf("the slowest enrolment took %v, want under a minute", slowest)
	}
}
