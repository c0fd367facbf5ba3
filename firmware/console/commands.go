package console

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/palmd/palmd/drivers/gate"
	"github.com/palmd/palmd/drivers/light"
	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
)

// command is one console command. role "" runs before a login.
type command struct {
	usage, help string
	role        Role
	run         func(ctx context.Context, ss *session, args []string) (result, error)
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"help":        {"help", "list the commands", "", cmdHelp},
		"login":       {"login NAME", "start a login: the answer is a challenge to sign", "", cmdLogin},
		"response":    {"response SIGNATURE", "finish a login with the base64 Ed25519 signature of the challenge", "", cmdResponse},
		"machine":     {"machine", "answer every command in one JSON line, without echo or prompt", "", cmdMachine},
		"quit":        {"quit", "log out", "", cmdQuit},
		"status":      {"status", "versions, slot, uptime, mode, NATS link, last decisions, counters, part health", RoleTechnician, cmdStatus},
		"logs":        {"logs [N]", "the last N (default 50) log lines, redacted", RoleTechnician, cmdLogs},
		"maintenance": {"maintenance on|off", "take the kiosk out of service for a technician, or give it back", RoleTechnician, cmdMaintenance},
		"test":        {"test camera|leds|gate|card|keypad|presence", "test one part (in maintenance)", RoleTechnician, cmdTest},
		"selftest":    {"selftest", "test every part (in maintenance)", RoleTechnician, cmdSelftest},
		"network":     {"network", "network interfaces and addresses", RoleTechnician, cmdNetwork},
		"reboot":      {"reboot", "reboot the kiosk", RoleTechnician, cmdReboot},
		"expect":      {"expect {JSON}", "wait for an event: {\"event\":…,\"flow\":…,\"outcome\":…,\"screen\":…,\"reason\":…,\"timeout\":\"30s\"}", RoleTechnician, cmdExpect},
		"sim":         {"sim [check] {JSON}", "apply one scenario step to simulated hardware (simulation build)", RoleTechnician, cmdSim},
		"provision":   {provisionUsage, "what is left to provision, or install credentials and signed config (factory; palmctl provision)", RoleFactory, cmdProvision},
	}
}

// text is a plain text answer; as JSON {"message": …}.
type text struct {
	Message string `json:"message"`
}

func (t text) text() string { return t.Message }

type helpResult struct {
	Commands []helpLine `json:"commands"`
}

type helpLine struct {
	Usage string `json:"usage"`
	Help  string `json:"help"`
	Role  Role   `json:"role,omitempty"`
}

func (h helpResult) text() string {
	var b strings.Builder
	for _, l := range h.Commands {
		role := ""
		if l.Role != "" {
			role = " [" + string(l.Role) + "]"
		}
		fmt.Fprintf(&b, "  %-44s %s%s\n", l.Usage, l.Help, role)
	}
	b.WriteString("  Add --json or | json to any command for one JSON object.\n")
	return b.String()
}

func cmdHelp(context.Context, *session, []string) (result, error) {
	var h helpResult
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		c := commands[name]
		h.Commands = append(h.Commands, helpLine{Usage: c.usage, Help: c.help, Role: c.role})
	}
	return h, nil
}

func wantArgs(name string, args []string, n int) error {
	if len(args) != n {
		return fmt.Errorf("%s: want %d argument(s), have %d (usage: %s)", name, n, len(args), commands[name].usage)
	}
	return nil
}

type challengeResult struct {
	Challenge string `json:"challenge"`
	Device    string `json:"device"` // signed with the challenge (SignedMessage)
}

func (c challengeResult) text() string { return "challenge " + c.Challenge + " device " + c.Device }

func cmdLogin(_ context.Context, ss *session, args []string) (result, error) {
	if err := wantArgs("login", args, 1); err != nil {
		return nil, err
	}
	s := ss.srv
	s.mu.Lock()
	wait := s.lim.wait(s.o.Clock.Now())
	s.mu.Unlock()
	if wait > 0 {
		s.o.Audit.Warn("console login refused", "name", Redact(args[0]), "reason", "locked")
		return nil, fmt.Errorf("login: too many failed logins: try again in %v", wait.Round(time.Second))
	}
	ss.logout("login")
	ss.loginName = args[0]
	// An unknown name gets a challenge too: names are not revealed.
	ss.challenge = newChallenge()
	return challengeResult{Challenge: base64.StdEncoding.EncodeToString(ss.challenge), Device: s.o.DeviceID}, nil
}

type loginResult struct {
	User string `json:"user"`
	Role Role   `json:"role"`
}

func (l loginResult) text() string { return fmt.Sprintf("logged in as %s (%s)", l.User, l.Role) }

func cmdResponse(_ context.Context, ss *session, args []string) (result, error) {
	if err := wantArgs("response", args, 1); err != nil {
		return nil, err
	}
	if ss.challenge == nil {
		return nil, errors.New("response: no challenge: send login NAME first")
	}
	s := ss.srv
	challenge, name := ss.challenge, ss.loginName
	ss.challenge = nil // one response per challenge
	// The key is looked up now: one removed since the challenge is refused.
	key, known := s.key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Clock.Now()
	if wait := s.lim.wait(now); wait > 0 {
		s.o.Audit.Warn("console login refused", "name", Redact(name), "reason", "locked")
		return nil, fmt.Errorf("response: too many failed logins: try again in %v", wait.Round(time.Second))
	}
	sig, err := base64.StdEncoding.DecodeString(args[0])
	if err != nil || !known || !ed25519.Verify(key.Pub, SignedMessage(s.o.DeviceID, challenge), sig) {
		s.lim.fail(now)
		s.o.Audit.Warn("console login failed", "name", Redact(name), "failures", s.lim.failures)
		return nil, errors.New("response: login refused")
	}
	s.lim.succeed()
	ss.user = &key
	ss.events = s.o.Bus.Subscribe(4096)
	ss.pending = nil
	for _, ev := range []bus.Event{s.mode, s.screen} {
		if ev.Event != "" {
			ss.pending = append(ss.pending, ev)
		}
	}
	s.o.Audit.Info("console login", "user", key.Name, "role", key.Role)
	return loginResult{User: key.Name, Role: key.Role}, nil
}

func cmdMachine(_ context.Context, ss *session, _ []string) (result, error) {
	ss.machine = true
	return nil, nil
}

func cmdQuit(_ context.Context, ss *session, _ []string) (result, error) {
	ss.logout("quit")
	return text{"logged out"}, nil
}

// Status is the status command's answer.
type Status struct {
	Device    string            `json:"device"`
	Versions  map[string]string `json:"versions"`
	Slot      string            `json:"slot,omitempty"`
	Uptime    string            `json:"uptime"`
	UptimeS   int64             `json:"uptime_s"`
	Mode      string            `json:"mode"`
	Reason    string            `json:"reason,omitempty"`
	Session   string            `json:"session,omitempty"`
	NATS      Link              `json:"nats"`
	Decisions Decisions         `json:"decisions"`
	Counters  map[string]int    `json:"counters"`
	Parts     map[string]string `json:"parts"`
}

// Link is the NATS link's state: up or not, and when up the round trip
// to the server, in milliseconds.
type Link struct {
	Connected bool    `json:"connected"`
	RTTMS     float64 `json:"rtt_ms,omitempty"`
}

// Decisions are the decisions by outcome since start, and the last few.
type Decisions struct {
	ByOutcome map[string]int `json:"by_outcome"`
	Last      []decision     `json:"last"`
}

func (st Status) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "device    %s\n", st.Device)
	for _, k := range slices.Sorted(maps.Keys(st.Versions)) {
		fmt.Fprintf(&b, "version   %s %s\n", k, st.Versions[k])
	}
	if st.Slot != "" {
		fmt.Fprintf(&b, "slot      %s\n", st.Slot)
	}
	fmt.Fprintf(&b, "uptime    %s\n", st.Uptime)
	mode := st.Mode
	if st.Reason != "" {
		mode += " (" + st.Reason + ")"
	}
	if st.Session != "" {
		mode += ", session " + st.Session
	}
	fmt.Fprintf(&b, "mode      %s\n", mode)
	fmt.Fprintf(&b, "nats      connected=%t", st.NATS.Connected)
	if st.NATS.RTTMS > 0 {
		fmt.Fprintf(&b, " rtt=%.1fms", st.NATS.RTTMS)
	}
	b.WriteString("\n")
	for _, k := range slices.Sorted(maps.Keys(st.Parts)) {
		fmt.Fprintf(&b, "part      %-10s %s\n", k, st.Parts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(st.Decisions.ByOutcome)) {
		fmt.Fprintf(&b, "decisions %-16s %d\n", k, st.Decisions.ByOutcome[k])
	}
	for _, d := range st.Decisions.Last {
		fmt.Fprintf(&b, "last      %s %s %s\n", d.Time.Format(time.RFC3339), d.Flow, d.Outcome)
	}
	for _, k := range slices.Sorted(maps.Keys(st.Counters)) {
		fmt.Fprintf(&b, "counter   %-24s %d\n", k, st.Counters[k])
	}
	return b.String()
}

func cmdStatus(_ context.Context, ss *session, _ []string) (result, error) {
	s := ss.srv
	k := s.o.Kiosk.Status()
	up := s.o.Clock.Since(s.started)
	st := Status{Device: s.o.DeviceID, Versions: s.o.Versions, Uptime: up.Round(time.Second).String(),
		UptimeS: int64(up.Round(time.Second) / time.Second), Mode: string(k.Mode), Reason: k.Reason, Session: k.Session,
		Counters: k.Counters, Parts: map[string]string{}, Decisions: Decisions{ByOutcome: map[string]int{}, Last: []decision{}}}
	if st.Versions == nil {
		st.Versions = map[string]string{}
	}
	if st.Counters == nil {
		st.Counters = map[string]int{}
	}
	// Every part: up or down as the kiosk last saw it, or no failure seen
	// (a part that works is reported only once it has failed).
	for _, p := range []string{firmware.PartCamera, firmware.PartLight, firmware.PartPresence, firmware.PartDisplay,
		firmware.PartCards, firmware.PartKeypad, firmware.PartGate, firmware.PartCloud} {
		st.Parts[p] = "no_failure_seen"
	}
	for p, ok := range k.Parts {
		st.Parts[p] = map[bool]string{true: "up", false: "down"}[ok]
	}
	for name, n := range k.Counters {
		if o, ok := strings.CutPrefix(name, "outcome_"); ok {
			st.Decisions.ByOutcome[o] = n
		}
	}
	st.NATS.Connected = k.Parts[firmware.PartCloud]
	if s.o.Cloud != nil {
		st.NATS = s.o.Cloud()
	}
	if s.o.Slot != nil {
		st.Slot = s.o.Slot()
	}
	s.mu.Lock()
	st.Decisions.Last = append(st.Decisions.Last, s.decisions...)
	s.mu.Unlock()
	return st, nil
}

type lines struct {
	Lines []string `json:"lines"`
}

func (l lines) text() string { return strings.Join(l.Lines, "\n") }

func cmdLogs(_ context.Context, ss *session, args []string) (result, error) {
	n := 50
	if len(args) > 1 {
		return nil, wantArgs("logs", args, 1)
	}
	if len(args) == 1 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("logs: N: %q: want a positive number of lines", args[0])
		}
		n = v
	}
	return lines{Lines: ss.srv.o.Logs.Last(n)}, nil
}

type modeResult struct {
	Mode string `json:"mode"`
}

func (m modeResult) text() string { return "mode " + m.Mode }

func cmdMaintenance(ctx context.Context, ss *session, args []string) (result, error) {
	if err := wantArgs("maintenance", args, 1); err != nil {
		return nil, err
	}
	var on bool
	switch args[0] {
	case "on":
		on = true
	case "off":
	default:
		return nil, fmt.Errorf("maintenance: %q: want on or off", args[0])
	}
	s := ss.srv
	sub := s.o.Bus.Subscribe(64)
	defer sub.Close()
	s.o.Kiosk.Maintenance(on)
	// Wait for the supervisor to take the request: its mode event (the
	// status is published a moment after it), unless it was in that mode
	// already.
	if m := s.o.Kiosk.Status().Mode; (m == firmware.ModeMaintenance) == on {
		return modeResult{Mode: string(m)}, nil
	}
	timeout := s.o.Clock.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case ev := <-sub.C:
			if ev.Event == bus.Mode && (ev.Mode == string(firmware.ModeMaintenance)) == on {
				return modeResult{Mode: ev.Mode}, nil
			}
		case <-timeout.Chan():
			return nil, fmt.Errorf("maintenance %s: requested, but the kiosk stays %s", args[0], s.o.Kiosk.Status().Mode)
		}
	}
}

// PartTest is one part's test outcome.
type PartTest struct {
	Part   string `json:"part"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

func (p PartTest) text() string {
	verdict := "FAIL"
	if p.Pass {
		verdict = "PASS"
	}
	return fmt.Sprintf("%-9s %s  %s", p.Part, verdict, p.Detail)
}

type partTests struct {
	Pass  bool       `json:"pass"`
	Parts []PartTest `json:"parts"`
}

func (p partTests) text() string {
	var b strings.Builder
	for _, t := range p.Parts {
		b.WriteString(t.text() + "\n")
	}
	return b.String()
}

var partNames = []string{"camera", "leds", "gate", "card", "keypad", "presence"}

func cmdTest(ctx context.Context, ss *session, args []string) (result, error) {
	if err := wantArgs("test", args, 1); err != nil {
		return nil, err
	}
	if !slices.Contains(partNames, args[0]) {
		return nil, fmt.Errorf("test: part %q: want one of %s", args[0], strings.Join(partNames, ", "))
	}
	if err := ss.inMaintenance("test"); err != nil {
		return nil, err
	}
	return ss.testPart(ctx, args[0]), nil
}

func (ss *session) inMaintenance(cmd string) error {
	if m := ss.srv.o.Kiosk.Status().Mode; m != firmware.ModeMaintenance {
		return fmt.Errorf("%s: the kiosk is %s: run maintenance on first (nobody may be using it)", cmd, m)
	}
	return nil
}

func (ss *session) testPart(ctx context.Context, part string) PartTest {
	o := ss.srv.o
	pt := PartTest{Part: part}
	var err error
	switch part {
	case "camera", "leds":
		// A camera the kiosk sees down is probed by it every second: the
		// test would capture alongside the probe.
		if err = ss.partHealth(firmware.PartCamera); err == nil {
			pt.Detail, err = testLit(ctx, o.Devices, part == "camera")
		}
	case "gate":
		pt.Detail, err = testGate(ctx, o.Devices.Gate)
	case "presence":
		pt.Detail = "nothing in range"
		if mm := o.Kiosk.DistanceMM(); mm > 0 {
			pt.Detail = fmt.Sprintf("something at %d mm", mm)
		}
		err = ss.partHealth(firmware.PartPresence)
	case "card":
		pt.Detail, err = ss.listen(ctx, firmware.PartCards, "swipe or insert a card")
	case "keypad":
		pt.Detail, err = ss.listen(ctx, firmware.PartKeypad, "press a key")
	}
	if err != nil {
		pt.Detail = err.Error()
		return pt
	}
	pt.Pass = true
	return pt
}

// partHealth fails when the kiosk has seen the part go down.
func (ss *session) partHealth(part string) error {
	if up, known := ss.srv.o.Kiosk.Status().Parts[part]; known && !up {
		return fmt.Errorf("%s is down", part)
	}
	return nil
}

// listen waits for the kiosk to report input from part (the kiosk drops
// input in maintenance and says so), or a read error.
func (ss *session) listen(ctx context.Context, part, ask string) (string, error) {
	if err := ss.partHealth(part); err != nil {
		return "", err
	}
	o := ss.srv.o
	sub := o.Bus.Subscribe(64)
	defer sub.Close()
	timeout := o.Clock.NewTimer(o.Listen)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-timeout.Chan():
			return "", fmt.Errorf("nothing within %v (%s)", o.Listen, ask)
		case ev := <-sub.C:
			switch {
			case ev.Event == bus.Dropped && ev.Part == part && part == firmware.PartCards:
				if last4, ok := strings.CutPrefix(ev.Reason, "card_"); ok && last4 != "" {
					return "card •••• " + last4 + " read, tracks ok", nil
				}
				return "card read, tracks ok", nil
			case ev.Event == bus.Dropped && ev.Part == part:
				if ev.Reason != "" {
					return "key " + ev.Reason, nil
				}
				return "key pressed", nil
			case ev.Event == bus.CardError && part == firmware.PartCards:
				return "", fmt.Errorf("card not read: %s", ev.Reason)
			case ev.Event == bus.Health && ev.Part == part:
				return "", fmt.Errorf("%s: %s", part, ev.Reason)
			}
		}
	}
}

// minLit is the least a lit bank must brighten the scene (mean grey
// level) over the unlit frame: a dead bank adds nothing.
const minLit = 4

// testLit captures an unlit frame and one lit by each LED bank and
// compares their mean brightness (aggregates only; the frame is zeroed).
func testLit(ctx context.Context, d firmware.Devices, camera bool) (string, error) {
	if d.Camera == nil || d.Light == nil {
		return "", errors.New("camera or LEDs not configured")
	}
	r := d.Camera.Bounds()
	frame := image.NewGray(r)
	defer clear(frame.Pix)
	defer func() { _ = d.Light.SetBanks(0) }()
	capture := func(b light.Banks) (int, error) {
		if err := d.Light.SetBanks(b); err != nil {
			return 0, fmt.Errorf("LEDs: %w", err)
		}
		if err := d.Camera.Capture(ctx, frame); err != nil {
			return 0, fmt.Errorf("camera: %w", err)
		}
		sum := 0
		for _, v := range frame.Pix {
			sum += int(v)
		}
		return sum / max(1, len(frame.Pix)), nil
	}
	unlit, err := capture(0)
	if err != nil {
		return "", err
	}
	var parts, dead []string
	if camera {
		parts = append(parts, fmt.Sprintf("%dx%d, unlit mean %d", r.Dx(), r.Dy(), unlit))
	}
	for _, b := range []struct {
		name  string
		banks light.Banks
	}{{"left", light.BankLeft}, {"right", light.BankRight}, {"both", light.BankBoth}} {
		lit, err := capture(b.banks)
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s %+d", b.name, lit-unlit))
		if lit-unlit < minLit {
			dead = append(dead, b.name)
		}
	}
	detail := strings.Join(parts, ", ")
	if len(dead) > 0 {
		return "", fmt.Errorf("%s: bank(s) %s do not light (want at least +%d)", detail, strings.Join(dead, ", "), minLit)
	}
	return detail, nil
}

func testGate(ctx context.Context, g gate.Gate) (string, error) {
	if g == nil {
		return "", errors.New("gate not configured")
	}
	if err := g.Open(ctx); err != nil {
		return "", fmt.Errorf("pulse: %w", err)
	}
	detail := "relay pulsed"
	if door, ok := g.(gate.Door); ok {
		switch open, err := door.DoorOpen(); {
		case errors.Is(err, gate.ErrNoDoor):
			detail += ", no door contact"
		case err != nil:
			return "", fmt.Errorf("door contact: %w", err)
		case open:
			detail += ", door open"
		default:
			detail += ", door closed"
		}
	}
	return detail, nil
}

func cmdSelftest(ctx context.Context, ss *session, _ []string) (result, error) {
	if err := ss.inMaintenance("selftest"); err != nil {
		return nil, err
	}
	res := partTests{Pass: true}
	for _, p := range []string{"camera", "leds", "gate", "presence"} {
		res.Parts = append(res.Parts, ss.testPart(ctx, p))
	}
	// The card reader and keypad are read by the kiosk all the time: their
	// health is what its supervision of them says.
	for _, p := range []string{firmware.PartCards, firmware.PartKeypad, firmware.PartDisplay} {
		pt := PartTest{Part: p, Pass: true, Detail: "no failure seen"}
		if err := ss.partHealth(p); err != nil {
			pt.Pass, pt.Detail = false, err.Error()
		}
		res.Parts = append(res.Parts, pt)
	}
	for _, p := range res.Parts {
		res.Pass = res.Pass && p.Pass
	}
	return res, nil
}

func cmdNetwork(_ context.Context, ss *session, _ []string) (result, error) {
	if ss.srv.o.Network == nil {
		return nil, errors.New("network: not available on this kiosk")
	}
	l, err := ss.srv.o.Network()
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return lines{Lines: l}, nil
}

func cmdReboot(_ context.Context, ss *session, _ []string) (result, error) {
	if ss.srv.o.Reboot == nil {
		return nil, errors.New("reboot: not available on this kiosk")
	}
	if err := ss.srv.o.Reboot(); err != nil {
		return nil, fmt.Errorf("reboot: %w", err)
	}
	return text{"rebooting"}, nil
}

// Expectation is what expect waits for. With Screen set it waits until
// that screen shows; otherwise it takes the next event named Event and
// checks the other fields, so that another outcome fails at once. Outcome
// may name alternatives: "spoof_rejected|retry".
type Expectation struct {
	Event   string `json:"event"`
	Flow    string `json:"flow,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Screen  string `json:"screen,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Part    string `json:"part,omitempty"`
	Timeout string `json:"timeout,omitempty"` // default 30s
}

// Met is expect's answer: whether the expectation held, and the event
// that decided it (none on a timeout).
type Met struct {
	OK   bool       `json:"ok"`
	Got  *bus.Event `json:"got,omitempty"`
	Why  string     `json:"why,omitempty"`
	Want string     `json:"want"`
}

func (m Met) text() string {
	if m.OK {
		return "ok: " + describe(*m.Got)
	}
	return "failed: " + m.Why
}

func describe(e bus.Event) string {
	parts := []string{e.Event}
	for _, kv := range [][2]string{{"flow", e.Flow}, {"outcome", e.Outcome}, {"screen", e.Screen},
		{"reason", e.Reason}, {"part", e.Part}, {"mode", e.Mode}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func cmdExpect(ctx context.Context, ss *session, args []string) (result, error) {
	var x Expectation
	dec := json.NewDecoder(strings.NewReader(strings.Join(args, " ")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("expect: want one JSON object with event, flow, outcome, screen, reason, part, timeout: %w", err)
	}
	if x.Event == "" {
		return nil, errors.New("expect: event: must not be empty")
	}
	timeout := 30 * time.Second
	if x.Timeout != "" {
		d, err := time.ParseDuration(x.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("expect: timeout: %q: want a positive duration such as \"30s\"", x.Timeout)
		}
		timeout = d
	}
	want := bus.Event{Event: x.Event, Flow: x.Flow, Outcome: x.Outcome, Screen: x.Screen, Reason: x.Reason, Part: x.Part}
	met := Met{Want: describe(want)}
	timer := ss.srv.o.Clock.NewTimer(timeout)
	defer timer.Stop()
	for {
		var ev bus.Event
		if len(ss.pending) > 0 {
			ev, ss.pending = ss.pending[0], ss.pending[1:]
		} else {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-timer.Chan():
				met.Why = fmt.Sprintf("expected %s within %v: none came", met.Want, timeout)
				return met, nil
			case e, ok := <-ss.events.C:
				if !ok {
					return nil, errors.New("expect: the event stream ended")
				}
				ev = e
			}
		}
		if ev.Event != x.Event || (x.Screen != "" && ev.Screen != x.Screen) {
			continue
		}
		met.Got = &ev
		if (x.Flow != "" && ev.Flow != x.Flow) || (x.Outcome != "" && !slices.Contains(strings.Split(x.Outcome, "|"), ev.Outcome)) ||
			(x.Reason != "" && ev.Reason != x.Reason) || (x.Part != "" && ev.Part != x.Part) {
			met.Why = fmt.Sprintf("expected %s, got %s", met.Want, describe(ev))
			return met, nil
		}
		met.OK = true
		return met, nil
	}
}

func cmdSim(ctx context.Context, ss *session, args []string) (result, error) {
	if ss.srv.o.Sim == nil {
		return nil, errors.New("sim: this kiosk has real hardware (sim is the simulation build's)")
	}
	check := len(args) > 0 && args[0] == "check"
	if check {
		args = args[1:]
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("sim: want a step (usage: %s)", commands["sim"].usage)
	}
	if err := ss.srv.o.Sim.Stimulate(ctx, []byte(strings.Join(args, " ")), check); err != nil {
		return nil, err
	}
	return nil, nil
}
