package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/palmd/palmd/uplink/wire"
)

// ErrBundleMismatch reports a bundle whose bytes are not those its update
// command names (size or SHA-256).
var ErrBundleMismatch = errors.New("uplink: bundle does not match its update command")

// Bundle opens the firmware bundle u names in the cloud's object store
// (wire.BundleBucket) and streams it from JetStream as it is read. The
// bytes are checked against the signed command as they go: more than
// u.Size bytes, or at the end another size or SHA-256, is ErrBundleMismatch
// instead of io.EOF, so a reader that verifies to the end (secureboot's
// Updater.Install) never accepts other bytes. Close it when done.
//
// The chunks are read one by one with JetStream's direct get (the next
// message on the object's chunk subject), not with a consumer as
// nats.go's object store reads them: a kiosk may not create consumers,
// since a consumer's deliver subject is the kiosk's to choose and the
// server publishes to it on the kiosk's behalf, past its publish
// permissions (wire.DevicePermissions). ctx bounds every read.
func (c *Client) Bundle(ctx context.Context, u wire.Update) (io.ReadCloser, error) {
	if err := (wire.Command{Type: wire.CmdUpdate, Seq: 1, Update: &u}).Validate(); err != nil {
		return nil, fmt.Errorf("uplink: bundle: %w", err)
	}
	if !c.nc.IsConnected() {
		return nil, ErrNotConnected
	}
	js, err := jetstream.New(c.nc)
	if err != nil {
		return nil, fmt.Errorf("uplink: bundle: %w", err)
	}
	obs, err := js.ObjectStore(ctx, wire.BundleBucket)
	if err != nil {
		return nil, fmt.Errorf("uplink: bundle bucket %s: %w", wire.BundleBucket, err)
	}
	info, err := obs.GetInfo(ctx, u.Object)
	if err != nil {
		return nil, fmt.Errorf("uplink: bundle %s: %w", u.Object, err)
	}
	if !wire.ValidObjectID(info.NUID) {
		return nil, fmt.Errorf("uplink: bundle %s: object id %q is not a subject token", u.Object, info.NUID)
	}
	stream, err := js.Stream(ctx, wire.BundleStream)
	if err != nil {
		return nil, fmt.Errorf("uplink: bundle stream %s: %w", wire.BundleStream, err)
	}
	chunks := &chunkReader{ctx: ctx, stream: stream, subject: wire.BundleChunkSubject(info.NUID), left: info.Chunks, next: 1}
	want, _ := hex.DecodeString(u.SHA256)
	return &checkedBundle{r: chunks, h: sha256.New(), size: u.Size, sum: want}, nil
}

// chunkReader reads an object's chunks in order, each with one direct get
// of the next message on their subject.
type chunkReader struct {
	ctx     context.Context // Bundle's: a reader has no other place for it
	stream  jetstream.Stream
	subject string
	left    uint32 // chunks not yet fetched
	next    uint64 // the stream sequence to look from
	buf     []byte // what is left of the chunk fetched last
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.left == 0 {
			return 0, io.EOF
		}
		m, err := r.stream.GetMsg(r.ctx, r.next, jetstream.WithGetMsgSubject(r.subject))
		if err != nil {
			return 0, fmt.Errorf("chunk at or after sequence %d: %w", r.next, err)
		}
		r.next, r.buf = m.Sequence+1, m.Data
		r.left--
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	r.buf, r.left = nil, 0
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
