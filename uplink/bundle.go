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
// here. ctx bounds every read.
func (c *Client) Bundle(ctx context.Context, u wire.Update) (io.ReadCloser, error) {
	if err := (wire.Command{Type: wire.CmdUpdate, Seq: 1, Update: &u}).Validate(); err != nil {
		return nil, fmt.Errorf("uplink: bundle: %w", err)
	}
	if !c.nc.IsConnected() {
		return nil, ErrNotConnected
	}
	r := &bundleReader{ctx: ctx, nc: c.nc, subject: wire.BundleSubject(c.device), req: wire.BundleRequest{Object: u.Object}}
	if err := r.fetch(); err != nil {
		return nil, fmt.Errorf("uplink: bundle %s: %w", u.Object, err)
	}
	want, _ := hex.DecodeString(u.SHA256)
	return &checkedBundle{r: r, h: sha256.New(), size: u.Size, sum: want}, nil
}

// A bundle request that gets no reply within fetchTimeout is sent again,
// up to fetchTries times in all: it asks for the same bytes each time.
const (
	fetchTimeout = 30 * time.Second
	fetchTries   = 3
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
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(r.ctx, fetchTimeout)
		m, err = r.nc.RequestWithContext(ctx, r.subject, b)
		cancel()
		if err == nil || try == fetchTries || r.ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("bytes from sequence %d: %w", r.req.From, err)
	}
	if why := m.Header.Get(wire.BundleErrorHeader); why != "" {
		return fmt.Errorf("bytes from sequence %d: the cloud: %.100q", r.req.From, why)
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
		return n, fmt.Errorf("uplink: bundle: %w", err)
	}
	return n, err
}

func (b *checkedBundle) Close() error { return b.r.Close() }
