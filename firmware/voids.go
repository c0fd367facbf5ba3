package firmware

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/secureboot"
	"github.com/palmd/palmd/uplink/wire"
)

// Reversals, store and forward. A payment the point of sale was not told
// of (its request went out and no refusal came back, then the session was
// cancelled; or an approval the point of sale could not read) is voided
// at once; a void that gets no approved answer is queued (void_queued),
// kept in the data directory, and retried, oldest first, until the cloud
// approves it (voided): with a backoff on the kiosk's clock, and at once
// when the cloud's health turns up. The cloud's void is idempotent by
// device and message id, so a void whose answer was lost is sent again
// safely; one whose approval arrived is never sent again.
const (
	// PartVoids names the void queue in a health event (voids_full).
	PartVoids = "voids"
	// VoidsFile is the queue's file in the data directory.
	VoidsFile = "voids.json"
	// MaxVoids bounds the queue. A void past it is not kept: it is
	// logged as an error and reported as a health event (voids_full),
	// since a processor would rather know than lose it silently.
	MaxVoids = 1000
	// voidRetry is the first retry's delay; it doubles up to
	// voidRetryMax.
	voidRetry    = 5 * time.Second
	voidRetryMax = 5 * time.Minute
	voidsVersion = 1
)

// pendingVoid is one queued void: the point of sale's message id, the
// session that charged it, and when it was queued. No amount, no card.
type pendingVoid struct {
	Ref     string    `json:"ref"`
	Session string    `json:"session"`
	Queued  time.Time `json:"queued"`
}

type voidsFile struct {
	V     int           `json:"v"`
	Voids []pendingVoid `json:"voids"`
}

// voids is the queue: a plain structure, safe for concurrent use, with no
// goroutine and no clock of its own (Kiosk.runVoids drives it).
type voids struct {
	path string // the file it is kept in; "": memory only
	max  int

	mu    sync.Mutex
	queue []pendingVoid
	wake  chan struct{} // a retry is due at once (buffered 1)
}

// openVoids loads the queue kept in dir, if there is one. An empty dir
// keeps the queue in memory only: a restart loses it. A file that cannot
// be read or parsed is not dropped: it is set aside for a technician
// (VoidsFile.bad…, beside it), the queue starts empty, and the error
// names the file, the field and where it now is. The kiosk serves on: a
// palmd that exits is restarted, and the kiosk rebooted, in a loop.
func openVoids(dir string, max int) (*voids, error) {
	v := &voids{max: max, wake: make(chan struct{}, 1)}
	if dir == "" {
		return v, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return v, fmt.Errorf("firmware: voids: %w: the queue is kept in memory only", err)
	}
	v.path = filepath.Join(dir, VoidsFile)
	b, err := os.ReadFile(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	if err == nil {
		if v.queue, err = parseVoids(b, max); err == nil {
			if len(v.queue) > 0 {
				v.kick()
			}
			return v, nil
		}
	}
	err = fmt.Errorf("firmware: voids: %s: %w", v.path, err)
	aside, serr := setAside(v.path)
	if serr != nil { // neither read nor moved: it is not overwritten either
		v.path = ""
		return v, fmt.Errorf("%w; not set aside (%w): the queue is kept in memory only", err, serr)
	}
	return v, fmt.Errorf("%w; set aside as %s, the queue starts empty", err, aside)
}

// setAside renames path to a new name beside it, path.bad…, and returns it.
func setAside(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".bad*")
	if err != nil {
		return "", err
	}
	f.Close()
	if err := os.Rename(path, f.Name()); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// parseVoids reads a queue file: version 1, at most max voids, each with
// a message id as the point of sale sends it (1 to 64 printable
// characters, no spaces), a session id and the time it was queued, no id
// twice.
func parseVoids(b []byte, max int) ([]pendingVoid, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var f voidsFile
	if err := d.Decode(&f); err != nil {
		return nil, fmt.Errorf("want a JSON object {\"v\":1,\"voids\":[…]}: %w", err)
	}
	if d.More() {
		return nil, errors.New("data after the JSON object: want one object")
	}
	switch {
	case f.V != voidsVersion:
		return nil, fmt.Errorf("v: %d: want %d", f.V, voidsVersion)
	case len(f.Voids) > max:
		return nil, fmt.Errorf("voids: %d entries: want at most %d", len(f.Voids), max)
	}
	seen := make(map[string]bool, len(f.Voids))
	for i, p := range f.Voids {
		switch {
		case !validRef(p.Ref):
			return nil, fmt.Errorf("voids[%d].ref: want 1 to 64 printable characters without spaces", i)
		case seen[p.Ref]:
			return nil, fmt.Errorf("voids[%d].ref: %q again: want each message id once", i, p.Ref)
		case len(p.Session) > 64 || !validRef(p.Session) && p.Session != "":
			return nil, fmt.Errorf("voids[%d].session: want up to 64 printable characters without spaces", i)
		case p.Queued.IsZero():
			return nil, fmt.Errorf("voids[%d].queued: missing: want an RFC 3339 time", i)
		}
		seen[p.Ref] = true
	}
	return f.Voids, nil
}

// validRef is a point-of-sale message id's syntax (package pos).
func validRef(s string) bool {
	return len(s) > 0 && len(s) <= 64 && !slices.ContainsFunc([]byte(s), func(c byte) bool { return c <= ' ' || c > '~' })
}

// add queues p unless its ref is queued already. It reports false when
// the queue is full: p is not kept. A queue it cannot write down stays
// in memory and the error says so.
func (v *voids) add(p pendingVoid) (kept bool, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if slices.ContainsFunc(v.queue, func(q pendingVoid) bool { return q.Ref == p.Ref }) {
		return true, nil
	}
	if len(v.queue) >= v.max {
		return false, nil
	}
	v.queue = append(v.queue, p)
	v.kick()
	return true, v.save()
}

// head is the oldest queued void.
func (v *voids) head() (pendingVoid, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.queue) == 0 {
		return pendingVoid{}, false
	}
	return v.queue[0], true
}

// done takes ref off the queue, if it is there: the cloud approved its
// void.
func (v *voids) done(ref string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := len(v.queue)
	v.queue = slices.DeleteFunc(v.queue, func(q pendingVoid) bool { return q.Ref == ref })
	if len(v.queue) == n {
		return nil
	}
	return v.save()
}

// len is how many voids wait.
func (v *voids) len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.queue)
}

// kick makes the next retry due at once.
func (v *voids) kick() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// save writes the queue down (0600, write and rename), if it is kept in
// a file. v.mu is held.
func (v *voids) save() error {
	if v.path == "" {
		return nil
	}
	b, _ := json.Marshal(voidsFile{V: voidsVersion, Voids: v.queue}) // it always marshals
	if err := secureboot.WriteFileAtomic(v.path, b); err != nil {
		return fmt.Errorf("firmware: voids: %s: %w", v.path, err)
	}
	return nil
}

// retryDelay is the wait before the n-th retry of the same void (n ≥ 1).
func retryDelay(n int) time.Duration {
	d := voidRetry
	for i := 1; i < n && d < voidRetryMax; i++ {
		d *= 2
	}
	return min(d, voidRetryMax)
}

// queueVoid keeps the void of ref for retries (void_queued). A full
// queue keeps its oldest: ref is then logged and reported (voids_full).
func (s *session) queueVoid(ref string) {
	k := s.k
	kept, err := k.voids.add(pendingVoid{Ref: ref, Session: s.id, Queued: k.clock.Now().UTC()})
	if err != nil {
		k.o.Log.Error("void kept in memory only: a restart loses it", "session", s.id, "err", err)
	}
	if !kept {
		k.o.Log.Error("void queue full: a payment may stand that the point of sale was not told of",
			"session", s.id, "max", k.voids.max)
		k.emit(bus.Event{Event: bus.Health, Part: PartVoids, Reason: "voids_full"})
		return
	}
	s.emit(bus.Event{Event: bus.VoidQueued})
}

// runVoids retries the queued voids, oldest first, one at a time, until
// ctx ends: at once, then after each failure with a growing delay on the
// kiosk's clock, or at once when kicked (the cloud is back, or a void was
// queued).
func (k *Kiosk) runVoids(ctx context.Context) {
	failed := 0 // consecutive failures of the oldest void
	for {
		var due <-chan time.Time
		var t clockwork.Timer
		if p, ok := k.voids.head(); ok {
			if k.sendVoid(ctx, p.Ref, p.Session) {
				failed = 0
				continue
			}
			failed++
			t = k.clock.NewTimer(retryDelay(failed))
			due = t.Chan()
		}
		select {
		case <-ctx.Done():
		case <-k.voids.wake:
			failed = 0
		case <-due:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// sendVoid asks the cloud to void the payment of the point of sale's
// message ref, charged in session, within Timeouts.Request. Once the cloud
// approves, ref leaves the queue (if it is there) and the session's
// voided event says so.
func (k *Kiosk) sendVoid(ctx context.Context, ref, session string) bool {
	var b [16]byte
	rand.Read(b[:])
	req := wire.Request{ID: hex.EncodeToString(b[:]), Device: k.o.DeviceID, Flow: wire.FlowVoid,
		Time: k.clock.Now().UTC(), Payment: &wire.Payment{Ref: ref}}
	ctx, cancel := k.withTimeout(ctx, k.o.Timeouts.Request)
	dec, err := k.o.Cloud.Do(ctx, req)
	cancel()
	if err != nil || dec.Outcome != wire.Approved {
		k.o.Log.Warn("void not approved: kept for a retry", "session", session, "err", err, "outcome", dec.Outcome,
			"reason", dec.Reason)
		return false
	}
	if err := k.voids.done(ref); err != nil {
		k.o.Log.Error("voided, but the queue was not written: it is sent again after a restart (the cloud's void is idempotent)",
			"session", session, "err", err)
	}
	k.emit(bus.Event{Event: bus.Voided, Session: session, Flow: string(wire.FlowPay), Reason: dec.Reason})
	return true
}
