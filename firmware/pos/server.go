package pos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// ErrGone reports an answer that could not be written: the POS that asked
// has gone away.
var ErrGone = errors.New("pos: the point of sale has gone away")

// Handler serves the requests of every connection. The kiosk implements it.
type Handler interface {
	// Request hands over one valid request that no answer is stored for
	// and that is not in progress. reply answers it: it may be called
	// from any goroutine, more than once (see Server), and returns ErrGone
	// when the POS is no longer there to read the answer.
	Request(conn uint64, r Request, reply func(Answer) error)
	// Gone tells that the POS on conn went away.
	Gone(conn uint64)
}

// maxAnswers bounds the answers kept by message id.
const maxAnswers = 4096

// Server serves the POS link: any number of connections (TCP clients or a
// serial line), one Handler, and the answers by message id they share.
type Server struct {
	h   Handler
	log *slog.Logger

	conns atomic.Uint64
	mu    sync.Mutex
	// answers holds the answer to each message id, oldest first in order.
	answers map[string]Answer
	order   []string
	pending map[string]bool // ids being answered
}

// NewServer returns a server handing requests to h.
func NewServer(h Handler, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{h: h, log: log, answers: map[string]Answer{}, pending: map[string]bool{}}
}

// Serve accepts connections on l until ctx ends, serving each in its own
// goroutine, and returns once every one has ended. A listener should be
// local (loopback): the link has no authentication of its own.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("pos: accept: %w", err)
		}
		wg.Go(func() {
			defer c.Close()
			if err := s.ServeConn(ctx, c); err != nil {
				s.log.Warn("pos connection", "err", err)
			}
		})
	}
}

// ServeConn serves one connection (a TCP client, or a serial line for its
// whole life) until it ends or ctx does; ending ctx closes rw if it is an
// io.Closer. The handler hears Gone when it ends.
func (s *Server) ServeConn(ctx context.Context, rw io.ReadWriter) error {
	id := s.conns.Add(1)
	c := &conn{w: rw}
	if cl, ok := rw.(io.Closer); ok {
		stop := context.AfterFunc(ctx, func() { cl.Close() })
		defer stop()
	}
	defer func() {
		c.close()
		s.h.Gone(id)
	}()
	r := bufio.NewReaderSize(rw, MaxLine)
	for {
		line, err := readLine(r)
		switch {
		case errors.Is(err, errLong):
			c.write(Encode(Answer{V: Version, Type: "error", Reason: fmt.Sprintf("line longer than %d bytes", MaxLine-1)}))
			continue
		case errors.Is(err, io.EOF) || ctx.Err() != nil:
			return nil
		case err != nil:
			return fmt.Errorf("pos: read: %w", err)
		}
		if len(line) == 0 {
			continue
		}
		s.serve(id, c, line)
	}
}

// errLong reports a line longer than MaxLine; the rest of it is skipped.
var errLong = errors.New("pos: line too long")

// readLine returns the next line without its newline (and a "\r" before
// it). A line longer than MaxLine is skipped to its end and reported.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n')
		}
		if err == nil {
			return nil, errLong
		}
		return nil, err
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.EOF // a last line without newline is cut short: not a request
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// serve answers one line.
func (s *Server) serve(id uint64, c *conn, line []byte) {
	req, err := Parse(line)
	if err != nil {
		c.write(Encode(Answer{V: Version, ID: req.ID, Type: "error", Reason: err.Error()}))
		return
	}
	s.mu.Lock()
	if a, ok := s.answers[req.ID]; ok {
		s.mu.Unlock()
		c.write(Encode(a))
		return
	}
	if s.pending[req.ID] {
		s.mu.Unlock()
		c.write(Encode(Result(req.ID, InProgress, "")))
		return
	}
	s.pending[req.ID] = true
	s.mu.Unlock()
	s.h.Request(id, req, func(a Answer) error { return s.reply(c, req.ID, a) })
}

// reply writes a as the answer to id. An answer written is kept for id;
// one that could not be written is kept too, unless it is an approval:
// the POS never learnt of it, so the handler must take it back and reply
// again (with the cancellation) — until then the id is in progress.
func (s *Server) reply(c *conn, id string, a Answer) error {
	a.V, a.ID, a.Type = Version, id, "result"
	err := c.write(Encode(a))
	if err != nil && a.Status == Approved {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, id)
	if _, ok := s.answers[id]; !ok {
		s.order = append(s.order, id)
		if len(s.order) > maxAnswers {
			delete(s.answers, s.order[0])
			s.order = s.order[1:]
		}
	}
	s.answers[id] = a
	return err
}

// conn is one connection's writing side.
type conn struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (c *conn) write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrGone
	}
	if _, err := c.w.Write(b); err != nil {
		c.closed = true
		return fmt.Errorf("%w: %w", ErrGone, err)
	}
	return nil
}

func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}
