package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/term"

	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
)

// Kiosk is what the console needs of the running kiosk. *firmware.Kiosk
// implements it.
type Kiosk interface {
	Status() firmware.Status
	Maintenance(on bool)
	DistanceMM() int // the presence sensor's last reading; 0: nothing in range
}

// Stimulator applies one scenario step (a JSON object holding one action)
// to simulated hardware; with check set it only validates the step. Only
// the simulation build has one.
type Stimulator interface {
	Stimulate(ctx context.Context, step []byte, check bool) error
}

// Options configure a Server. DeviceID, Kiosk and Bus are required.
type Options struct {
	DeviceID string
	// Keys may log in; SetKeys replaces them while the server runs.
	Keys  []Key
	Kiosk Kiosk
	// Bus is the kiosk's event bus: the console keeps the last decisions,
	// and test card, test keypad and expect read it.
	Bus *bus.Bus
	// Devices are the parts the test commands drive (camera, light, gate,
	// display), only while the kiosk is in maintenance.
	Devices firmware.Devices
	// Versions name the running software ("palmd": "v1.2.3", …); Slot
	// returns the A/B slot booted ("" if not known); nil: not known.
	Versions map[string]string
	Slot     func() string
	// Cloud reports the NATS link: up or not, and the round trip to the
	// server when it is; nil: the kiosk's cloud health is used.
	Cloud func() Link
	// Network describes the network interfaces, one line each.
	Network func() ([]string, error)
	// Missing names the credentials and config not yet provisioned.
	Missing func() []string
	// Provision installs credentials and signed config (provision.go); nil
	// once the kiosk is provisioned.
	Provision Provisioner
	// Reboot asks the system to reboot.
	Reboot func() error
	// Sim drives simulated hardware (HIL on the simulation build); nil on
	// a real kiosk.
	Sim Stimulator
	// Logs is the in-memory log ring buffer logs shows.
	Logs *Ring
	// Audit receives every login, failure and command, redacted.
	Audit *slog.Logger
	// Clock is the real clock if nil.
	Clock clockwork.Clock
	// Idle logs a session out after this long without a line (default 10 min).
	Idle time.Duration
	// Listen is how long test card and test keypad wait (default 30 s).
	Listen time.Duration
}

// Server serves console sessions. One Server holds the failed-login count
// for every stream it serves.
type Server struct {
	o       Options
	started time.Time
	sub     *bus.Sub // what Run reads: made by New, so that nothing is missed

	mu        sync.Mutex
	keys      []Key // who may log in (Options.Keys, then SetKeys)
	sessions  map[*session]struct{}
	lim       limiter
	decisions []decision // the last few, newest last
	// The last mode and screen events: a session's event stream (expect)
	// starts with them, so that it can wait for what already shows.
	mode, screen bus.Event
}

type decision struct {
	Time    time.Time `json:"time"`
	Flow    string    `json:"flow"`
	Outcome string    `json:"outcome"`
}

const lastDecisions = 10

// New checks o and returns a server.
func New(o Options) (*Server, error) {
	if o.DeviceID == "" || o.Kiosk == nil || o.Bus == nil {
		return nil, errors.New("console: device id, kiosk and event bus are required")
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Audit == nil {
		o.Audit = slog.New(slog.DiscardHandler)
	}
	if o.Idle <= 0 {
		o.Idle = 10 * time.Minute
	}
	if o.Listen <= 0 {
		o.Listen = 30 * time.Second
	}
	if o.Logs == nil {
		o.Logs = NewRing(0)
	}
	return &Server{o: o, started: o.Clock.Now(), sub: o.Bus.Subscribe(256),
		keys: slices.Clone(o.Keys), sessions: map[*session]struct{}{}}, nil
}

// SetKeys replaces the keys that may log in (a new signed config): a key
// no longer among them cannot log in, and a session open with it ends.
func (s *Server) SetKeys(keys []Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = slices.Clone(keys)
	for ss := range s.sessions {
		select {
		case ss.recheck <- struct{}{}:
		default: // already told
		}
	}
}

// key returns the key named name, if it may log in.
func (s *Server) key(name string) (Key, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// allowed reports whether k may still log in.
func (s *Server) allowed(k Key) bool {
	cur, ok := s.key(k.Name)
	return ok && cur.same(k)
}

// Run keeps the last decisions, mode and screen until ctx ends.
func (s *Server) Run(ctx context.Context) {
	sub := s.sub
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C:
			s.mu.Lock()
			switch ev.Event {
			case bus.Mode:
				s.mode = ev
			case bus.Screen:
				s.screen = ev
			case bus.Decision:
				s.decisions = append(s.decisions, decision{Time: ev.Time, Flow: ev.Flow, Outcome: ev.Outcome})
				if len(s.decisions) > lastDecisions {
					s.decisions = s.decisions[1:]
				}
			}
			s.mu.Unlock()
		}
	}
}

// errTooLong is a line longer than MaxLine: refused, and the next is read.
var errTooLong = fmt.Errorf("line: longer than %d bytes", MaxLine)

type readResult struct {
	line string
	err  error
}

// Serve runs sessions on rw until ctx ends or rw fails or ends (a socket
// closed, Ctrl-D). A session starts as an interactive terminal (prompt,
// line editing, history); "machine" switches it to JSON lines. The caller
// closes rw after Serve returns.
func (s *Server) Serve(ctx context.Context, rw io.ReadWriter) error {
	ss := &session{srv: s, rw: rw, t: term.NewTerminal(rw, "palm> "), recheck: make(chan struct{}, 1)}
	s.mu.Lock()
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
	defer ss.logout("end")
	// One goroutine reads; it reads a line only when asked (next says
	// whether in machine mode), so that the mode switch loses nothing.
	next := make(chan bool)
	lines := make(chan readResult, 1)
	defer close(next)
	go func() {
		var raw *bufio.Reader
		for machine := range next {
			var r readResult
			if machine {
				if raw == nil {
					raw = bufio.NewReaderSize(rw, 256)
				}
				r.line, r.err = readRaw(raw)
			} else {
				r.line, r.err = ss.t.ReadLine()
			}
			lines <- r
			if r.err != nil && !errors.Is(r.err, errTooLong) {
				return
			}
		}
	}()
	idle := s.o.Clock.NewTimer(s.o.Idle)
	defer idle.Stop()
	pending := false
	for {
		if !pending {
			next <- ss.machine
			pending = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-idle.Chan():
			if ss.user != nil {
				ss.logout("idle")
				ss.reply(nil, errors.New("session ended: idle"), false)
			}
		case <-ss.recheck:
			ss.checkKey()
		case r := <-lines:
			pending = false
			switch {
			case errors.Is(r.err, io.EOF):
				return nil
			case errors.Is(r.err, errTooLong):
				ss.reply(nil, r.err, false)
			case r.err != nil:
				return fmt.Errorf("console: reading: %w", r.err)
			default:
				ss.handle(ctx, r.line)
			}
			idle.Reset(s.o.Idle)
		}
	}
}

// readRaw reads one line, ended by CR or LF, of at most MaxLine bytes; a
// longer one is consumed whole and refused.
func readRaw(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\r' || c == '\n' {
			if len(b) > MaxLine {
				return "", errTooLong
			}
			return string(b), nil
		}
		if len(b) <= MaxLine {
			b = append(b, c)
		}
	}
}

// session is one stream's state.
type session struct {
	srv       *Server
	rw        io.ReadWriter
	t         *term.Terminal
	machine   bool
	user      *Key
	challenge []byte
	loginName string        // whom the challenge is for
	recheck   chan struct{} // the keys changed: is user still allowed?
	events    *bus.Sub      // the events since login, for expect
	pending   []bus.Event   // read before events: what showed at login
	prov      *transfer     // a provision transfer under way
}

func (ss *session) logout(why string) {
	if ss.user != nil {
		ss.srv.o.Audit.Info("console logout", "user", ss.user.Name, "reason", why)
	}
	ss.user = nil
	ss.prov.zero()
	ss.prov = nil
	if ss.events != nil {
		ss.events.Close()
		ss.events = nil
	}
}

// checkKey ends the session if its key may no longer log in.
func (ss *session) checkKey() bool {
	if ss.user == nil || ss.srv.allowed(*ss.user) {
		return true
	}
	ss.logout("key_removed")
	ss.reply(nil, errors.New("session ended: your key was removed from the config"), false)
	return false
}

// handle runs one line.
func (ss *session) handle(ctx context.Context, raw string) {
	l, err := Parse(raw)
	if errors.Is(err, ErrEmpty) {
		return
	}
	if err != nil {
		ss.reply(nil, err, l.JSON)
		return
	}
	c, ok := commands[l.Name]
	if !ok {
		ss.reply(nil, fmt.Errorf("%s: unknown command (see help)", l.Name), l.JSON)
		return
	}
	if !ss.checkKey() {
		return
	}
	who := ""
	if ss.user != nil {
		who = ss.user.Name
	}
	switch {
	case c.role != "" && ss.user == nil:
		ss.srv.o.Audit.Warn("console command refused", "command", l.Name, "reason", "not logged in")
		ss.reply(nil, fmt.Errorf("%s: log in first (login NAME, then response SIGNATURE)", l.Name), l.JSON)
		return
	case c.role == RoleFactory && ss.user.Role != RoleFactory:
		ss.srv.o.Audit.Warn("console command refused", "user", who, "command", l.Name, "reason", "role")
		ss.reply(nil, fmt.Errorf("%s: needs the factory role; %s has %s", l.Name, who, ss.user.Role), l.JSON)
		return
	}
	if c.role != "" {
		ss.srv.o.Audit.Info("console command", "user", who, "command", l.Name, "args", auditArgs(l.Name, l.Args))
	}
	res, err := c.run(ctx, ss, l.Args)
	ss.reply(res, err, l.JSON)
}

// result is a command's answer: text for people, the value itself as JSON.
type result interface{ text() string }

// reply writes one answer. Asked for JSON, it is one JSON object
// ({"error": …} for a failure, {"ok": true} for a success with nothing to
// say); otherwise text. In machine mode every answer is one JSON line:
// a text answer is {"text": …}.
func (ss *session) reply(res result, err error, asJSON bool) {
	if ss.machine || asJSON {
		var v any = res
		switch {
		case err != nil:
			v = map[string]string{"error": err.Error()}
		case res == nil:
			v = map[string]bool{"ok": true}
		case !asJSON:
			v = map[string]string{"text": res.text()}
		}
		b, merr := json.Marshal(v)
		if merr != nil {
			b, _ = json.Marshal(map[string]string{"error": merr.Error()})
		}
		ss.write(string(b) + "\n")
		return
	}
	switch {
	case err != nil:
		ss.write("error: " + err.Error() + "\n")
	case res != nil:
		out := res.text()
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		ss.write(out)
	}
}

func (ss *session) write(s string) {
	if ss.machine {
		_, _ = io.WriteString(ss.rw, s)
		return
	}
	_, _ = ss.t.Write([]byte(s))
}

// newChallenge returns ChallengeSize random bytes.
func newChallenge() []byte {
	b := make([]byte, ChallengeSize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}
