package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/palmd/palmd/uplink/wire"
)

// ErrBundleMismatch reports a bundle whose bytes are not those its update
// command names (size or SHA-256).
var ErrBundleMismatch = errors.New("uplink: bundle does not match its update command")

// ErrBundleFetch reports a bundle that could not be read from the cloud:
// the network or the cloud failed and went on failing through the
// retries, or the cloud has no such bundle. Nothing says the bytes read so
// far are wrong; the same command may be sent again.
var ErrBundleFetch = errors.New("uplink: bundle not fetched")

// Bundle opens the firmware bundle u names and streams it from the cloud
// as it is read. The bytes are checked against the signed command as they
// go: more than u.Size bytes, or at the end another size or SHA-256, is
// ErrBundleMismatch instead of io.EOF, so a reader that verifies to the end
// (secureboot's Updater.Install) never accepts other bytes. Close it when
// done.
//
// The kiosk asks the cloud for the bundle's bytes on its bundle subject
// (wire.BundleRequest), up to wire.MaxBundleReply a round trip, and the
// cloud reads them from its object store (wire.BundleBucket). The kiosk
// may not read the bucket itself: JetStream answers on any reply subject
// a request names (wire.DevicePermissions). Bundle asks for the first
// bytes before it returns, so that a bundle the cloud does not have fails
// here. A round trip that fails in a way that passes is tried again (see
// fetchTries). ctx bounds every read.
func (c *Client) Bundle(ctx context.Context, u wire.Update) (io.ReadCloser, error) {
	if err := (wire.Command{Type: wire.CmdUpdate, Seq: 1, Update: &u}).Validate(); err != nil {
		return nil, fmt.Errorf("uplink: bundle: %w", err)
	}
	if !c.nc.IsConnected() {
		return nil, ErrNotConnected
	}
	r := &bundleReader{ctx: ctx, nc: c.nc, subject: wire.BundleSubject(c.device), req: wire.BundleRequest{Object: u.Object}}
	if err := r.fetch(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBundleFetch, u.Object, err)
	}
	want, _ := hex.DecodeString(u.SHA256)
	return &checkedBundle{r: r, h: sha256.New(), size: u.Size, sum: want}, nil
}

// A bundle request that fails in a way that passes is sent again, up to
// fetchTries times in all, asking for the same bytes each time: one that
// got no reply within fetchTimeout at once, one that found no cloud
// instance listening (nats.ErrNoResponders: an instance restarting) or
// the cloud's bucket unavailable (wire.BundleUnavailable: a server
// restarting, a stream leader being elected) after a pause that doubles
// from fetchPause up to fetchMaxPause. All tries together wait at most
// about 5 minutes; the update runs in the background meanwhile.
const (
	fetchTimeout  = 30 * time.Second
	fetchTries    = 8
	fetchPause    = time.Second
	fetchMaxPause = 16 * time.Second
)

// bundleReader reads a bundle's bytes from the cloud, one reply at a time.
type bundleReader struct {
	ctx     context.Context // Bundle's: a reader has no other place for it
	nc      *nats.Conn
	subject string
	req     wire.BundleRequest // the next request
	done    bool               // the last reply ended the bundle
	buf     []byte             // what is left of the last reply
}

func (r *bundleReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if err := r.fetch(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// fetch asks for the bytes from r.req.From on.
func (r *bundleReader) fetch() error {
	b, err := json.Marshal(r.req)
	if err != nil {
		return err
	}
	var m *nats.Msg
	pause := fetchPause
	for try := 1; ; try++ {
		m, err = r.ask(b)
		if err == nil || try == fetchTries || r.ctx.Err() != nil {
			break
		}
		if errors.Is(err, context.DeadlineExceeded) {
			continue // no reply within fetchTimeout: that was the pause
		}
		if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, errUnavailable) {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return fmt.Errorf("bytes from sequence %d: %w (after %w)", r.req.From, r.ctx.Err(), err)
		}
		pause = min(2*pause, fetchMaxPause)
	}
	if err != nil {
		return fmt.Errorf("bytes from sequence %d: %w", r.req.From, err)
	}
	r.buf = m.Data
	next := m.Header.Get(wire.BundleNextHeader)
	if next == "" {
		r.done = true
		return nil
	}
	seq, err := strconv.ParseUint(next, 10, 64)
	if err != nil || seq <= r.req.From {
		return fmt.Errorf("bytes from sequence %d: the cloud's %s %.30q: want a sequence above %d", r.req.From, wire.BundleNextHeader, next, r.req.From)
	}
	r.req.From = seq
	return nil
}

// errUnavailable is a reply of the cloud's that says to ask again later
// (wire.BundleUnavailable).
var errUnavailable = errors.New("the cloud: " + wire.BundleUnavailable)

// ask sends request b once and returns the reply, or the error its
// BundleErrorHeader names.
func (r *bundleReader) ask(b []byte) (*nats.Msg, error) {
	ctx, cancel := context.WithTimeout(r.ctx, fetchTimeout)
	defer cancel()
	m, err := r.nc.RequestWithContext(ctx, r.subject, b)
	switch {
	case err != nil:
		return nil, err
	case m.Header.Get(wire.BundleErrorHeader) == wire.BundleUnavailable:
		return nil, errUnavailable
	case m.Header.Get(wire.BundleErrorHeader) != "":
		return nil, fmt.Errorf("the cloud: %.100q", m.Header.Get(wire.BundleErrorHeader))
	}
	return m, nil
}

func (r *bundleReader) Close() error {
	r.buf, r.done = nil, true
	return nil
}

// checkedBundle counts and hashes what it reads.
type checkedBundle struct {
	r    io.ReadCloser
	h    hash.Hash
	n    int64
	size int64
	sum  []byte
}

func (b *checkedBundle) Read(p []byte) (int, error) {
	if rest := b.size - b.n + 1; int64(len(p)) > rest {
		p = p[:rest] // one byte more than promised is enough to tell
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.h.Write(p[:n])
	switch {
	case b.n > b.size:
		return n, fmt.Errorf("%w: more than %d bytes", ErrBundleMismatch, b.size)
	case errors.Is(err, io.EOF) && b.n != b.size:
		return n, fmt.Errorf("%w: %d bytes, want %d", ErrBundleMismatch, b.n, b.size)
	case errors.Is(err, io.EOF) && !bytes.Equal(b.h.Sum(nil), b.sum):
		return n, fmt.Errorf("%w: SHA-256 differs", ErrBundleMismatch)
	case err != nil && !errors.Is(err, io.EOF):
		return n, fmt.Errorf("%w: %w", ErrBundleFetch, err)
	}
	return n, err
}

func (b *checkedBundle) Close() error { return b.r.Close() }
