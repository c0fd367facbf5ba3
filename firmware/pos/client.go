package pos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Client is the POS side of the link, for the example POS (cmd/posdemo)
// and tests: it sends requests and reads the answers, matching them by id.
type Client struct {
	rw io.ReadWriteCloser
	wm sync.Mutex

	mu      sync.Mutex
	waiting map[string]chan Answer
	early   map[string]Answer // answers nobody waited for yet
	err     error             // why reading stopped
	done    chan struct{}
}

// Dial connects to a kiosk's POS socket.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pos: dial %s: %w", addr, err)
	}
	return NewClient(c), nil
}

// NewClient runs the POS side of the link over rw (a socket or a serial
// line) until Close.
func NewClient(rw io.ReadWriteCloser) *Client {
	c := &Client{rw: rw, waiting: map[string]chan Answer{}, early: map[string]Answer{}, done: make(chan struct{})}
	go c.read()
	return c
}

func (c *Client) read() {
	defer close(c.done)
	r := bufio.NewReaderSize(c.rw, MaxLine)
	for {
		line, err := readLine(r)
		if errors.Is(err, errLong) {
			continue
		}
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		var a Answer
		if json.Unmarshal(line, &a) != nil {
			continue
		}
		c.mu.Lock()
		if ch, ok := c.waiting[a.ID]; ok {
			delete(c.waiting, a.ID)
			ch <- a
		} else {
			c.early[a.ID] = a
		}
		c.mu.Unlock()
	}
}

// Send sends r without waiting for its answer.
func (c *Client) Send(r Request) error {
	r.V = Version
	b, err := EncodeRequest(r)
	if err != nil {
		return err
	}
	return c.SendLine(b)
}

// SendLine sends raw bytes as they are (for tests of the kiosk's parser).
func (c *Client) SendLine(b []byte) error {
	c.wm.Lock()
	defer c.wm.Unlock()
	if _, err := c.rw.Write(b); err != nil {
		return fmt.Errorf("pos: send: %w", err)
	}
	return nil
}

// Await waits for the answer to id.
func (c *Client) Await(ctx context.Context, id string) (Answer, error) {
	ch := make(chan Answer, 1)
	c.mu.Lock()
	if a, ok := c.early[id]; ok {
		delete(c.early, id)
		c.mu.Unlock()
		return a, nil
	}
	c.waiting[id] = ch
	c.mu.Unlock()
	select {
	case a := <-ch:
		return a, nil
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return Answer{}, fmt.Errorf("pos: connection ended before the answer to %s: %w", id, c.err)
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
		return Answer{}, ctx.Err()
	}
}

// Do sends r and waits for its answer.
func (c *Client) Do(ctx context.Context, r Request) (Answer, error) {
	if err := c.Send(r); err != nil {
		return Answer{}, err
	}
	return c.Await(ctx, r.ID)
}

// Close ends the connection.
func (c *Client) Close() error {
	err := c.rw.Close()
	<-c.done
	return err
}
