package pos

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		line   string
		id     string // the id the result names, valid or not
		errHas string // "" for a valid request
	}{
		{`{"v":1,"id":"m1","type":"pay","amount":1250,"currency":"EUR","merchant":"Corner Shop"}`, "m1", ""},
		{`{"v":1,"id":"m2","type":"cancel","ref":"m1"}`, "m2", ""},
		{`{"v":1,"id":"m3","type":"loyalty"}`, "m3", ""},
		{`{"v":1,"id":"m4","type":"age","over":18}`, "m4", ""},
		{`{"v":2,"id":"m5","type":"loyalty"}`, "m5", "v: 2: want 1"},
		{`{"v":1,"id":"m 6","type":"loyalty"}`, "", "id: want"},
		{`{"v":1,"id":"m7","type":"refund"}`, "m7", "type: want pay, cancel, loyalty or age"},
		{`{"v":1,"id":"m8","type":"pay","amount":0,"currency":"EUR","merchant":"x"}`, "m8", "amount: want 1 to"},
		{`{"v":1,"id":"m9","type":"pay","amount":5,"currency":"eur","merchant":"x"}`, "m9", "currency"},
		{`{"v":1,"id":"m10","type":"pay","amount":5,"currency":"EUR","merchant":""}`, "m10", "merchant"},
		{`{"v":1,"id":"m11","type":"pay","amount":5,"currency":"EUR","merchant":"x","over":3}`, "m11", "pay: ref and over"},
		{`{"v":1,"id":"m12","type":"cancel"}`, "m12", "cancel: want ref"},
		{`{"v":1,"id":"m13","type":"age","over":0}`, "m13", "age: want over"},
		{`{"v":1,"id":"m14","type":"loyalty","pan":"4111111111111111"}`, "m14", "known fields"},
		{`{"v":1,"id":"m15","type":"loyalty"} {}`, "", "data after"},
		{`not json 4111111111111111`, "", "not one JSON object"},
		{`{"v":1,"id":"m16","type":"pay","amount":1e30,"currency":"EUR","merchant":"x"}`, "m16", "not one JSON object"},
	}
	for _, tt := range tests {
		r, err := Parse([]byte(tt.line))
		if tt.errHas == "" {
			if err != nil {
				t.Errorf("Parse(%s): %v", tt.line, err)
			}
		} else if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("Parse(%s) = %v, want ErrMalformed mentioning %q", tt.line, err, tt.errHas)
		}
		if r.ID != tt.id {
			t.Errorf("Parse(%s) names id %q, want %q", tt.line, r.ID, tt.id)
		}
		if err != nil && strings.Contains(err.Error(), "4111") {
			t.Errorf("Parse error %q quotes the line", err)
		}
	}
}

// FuzzParse: no line panics the parser, an error never quotes the line, and
// a valid request encodes to a line that parses to the same request.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := Parse(line)
		if err != nil {
			if len(line) >= 8 && strings.Contains(err.Error(), string(line[:8])) {
				t.Fatalf("error %q quotes the line", err)
			}
			return
		}
		b, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("a parsed request does not encode: %v", err)
		}
		again, err := Parse(bytes.TrimSuffix(b, []byte("\n")))
		if err != nil || again != r {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, r)
		}
	})
}

// chunks reads b as two reads split at i, as bytes arrive on a line.
type chunks struct{ parts [][]byte }

func (c *chunks) Read(p []byte) (int, error) {
	for len(c.parts) > 0 && len(c.parts[0]) == 0 {
		c.parts = c.parts[1:]
	}
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	return n, nil
}

func lines(r io.Reader) (out []string, long int) {
	br := bufio.NewReaderSize(r, MaxLine)
	for {
		l, err := readLine(br)
		switch {
		case errors.Is(err, errLong):
			long++
			continue
		case err != nil:
			return out, long
		}
		out = append(out, string(l))
	}
}

// FuzzReadLines: input split in two (chunked delivery) reads as the same
// lines as in one piece, and a line too long is skipped, not served.
func FuzzReadLines(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, at uint) {
		i := int(at % uint(len(b)+1))
		whole, wl := lines(bytes.NewReader(b))
		split, sl := lines(&chunks{parts: [][]byte{bytes.Clone(b[:i]), bytes.Clone(b[i:])}})
		if !reflect.DeepEqual(whole, split) || wl != sl {
			t.Fatalf("split at %d: %q (%d long), whole: %q (%d long)", i, split, sl, whole, wl)
		}
		for _, l := range whole {
			if len(l) >= MaxLine {
				t.Fatalf("a line of %d bytes was read", len(l))
			}
		}
	})
}

// handler records requests and answers each as told.
type handler struct {
	mu    sync.Mutex
	reqs  []Request
	reply map[string]func(Answer) error
	gone  chan uint64
}

func (h *handler) Request(conn uint64, r Request, reply func(Answer) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs = append(h.reqs, r)
	h.reply[r.ID] = reply
}

func (h *handler) Gone(conn uint64) { h.gone <- conn }

// replyTo returns the reply function of request id, once every goroutine
// of the test's bubble waits (synctest.Wait): the request has reached the
// handler by then or never will.
func (h *handler) replyTo(t *testing.T, id string) func(Answer) error {
	t.Helper()
	synctest.Wait()
	h.mu.Lock()
	f, ok := h.reply[id]
	h.mu.Unlock()
	if !ok {
		t.Fatalf("request %s never reached the handler", id)
	}
	return f
}

func newLink(t *testing.T, s *Server) *Client {
	t.Helper()
	kiosk, pos := net.Pipe()
	go s.ServeConn(context.Background(), kiosk)
	c := NewClient(pos)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestOneAnswerPerID: the same message id, again or from another
// connection, reaches the kiosk once and gets the one answer.
func TestOneAnswerPerID(t *testing.T) { synctest.Test(t, testOneAnswerPerID) }

func testOneAnswerPerID(t *testing.T) {
	h := &handler{reply: map[string]func(Answer) error{}, gone: make(chan uint64, 4)}
	s := NewServer(h, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := newLink(t, s)
	pay := Request{ID: "m1", Type: Pay, Amount: 1250, Currency: "EUR", Merchant: "Shop"}
	if err := c.Send(pay); err != nil {
		t.Fatal(err)
	}
	reply := h.replyTo(t, "m1")
	if a, err := c.Do(ctx, pay); err != nil || a.Status != InProgress {
		t.Fatalf("the id again while it runs: %+v, %v; want in_progress", a, err)
	}
	ans := Answer{Status: Approved, Reference: "pay-1"}
	if err := reply(ans); err != nil {
		t.Fatal(err)
	}
	if a, err := c.Await(ctx, "m1"); err != nil || a.Status != Approved || a.Reference != "pay-1" || a.V != 1 || a.Type != "result" {
		t.Fatalf("answer: %+v, %v", a, err)
	}
	other := newLink(t, s)
	if a, err := other.Do(ctx, pay); err != nil || a.Status != Approved || a.Reference != "pay-1" {
		t.Fatalf("the id again on another connection: %+v, %v; want the stored answer", a, err)
	}
	if n := len(h.reqs); n != 1 {
		t.Fatalf("the handler heard %d requests, want 1", n)
	}
	if err := c.SendLine([]byte(strings.Repeat("x", 3000) + "\n" + `{"v":1,"id":"m2","type":"loyalty"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	h.replyTo(t, "m2")(Result("", OK, ""))
	if a, err := c.Await(ctx, "m2"); err != nil || a.Status != OK {
		t.Fatalf("the line after a line too long: %+v, %v", a, err)
	}
	if a, err := c.Await(ctx, ""); err != nil || a.Type != "error" || !strings.Contains(a.Reason, "longer") {
		t.Fatalf("a line too long: %+v, %v; want an error answer", a, err)
	}
}

// TestApprovalNobodyReadIsTakenBack: an approval the POS could not read is
// not kept; the handler is told (ErrGone), and the cancellation it sends
// then is what the id is answered with from then on.
func TestApprovalNobodyReadIsTakenBack(t *testing.T) {
	synctest.Test(t, testApprovalNobodyReadIsTakenBack)
}

func testApprovalNobodyReadIsTakenBack(t *testing.T) {
	h := &handler{reply: map[string]func(Answer) error{}, gone: make(chan uint64, 4)}
	s := NewServer(h, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := newLink(t, s)
	pay := Request{ID: "m1", Type: Pay, Amount: 1250, Currency: "EUR", Merchant: "Shop"}
	if err := c.Send(pay); err != nil {
		t.Fatal(err)
	}
	reply := h.replyTo(t, "m1")
	c.Close()
	<-h.gone
	if err := reply(Answer{Status: Approved, Reference: "pay-1"}); !errors.Is(err, ErrGone) {
		t.Fatalf("approval to a POS gone: %v, want ErrGone", err)
	}
	again := newLink(t, s)
	if a, err := again.Do(ctx, pay); err != nil || a.Status != InProgress {
		t.Fatalf("the id while the approval is taken back: %+v, %v; want in_progress", a, err)
	}
	if err := reply(Result("", Cancelled, "pos_gone")); !errors.Is(err, ErrGone) {
		t.Fatalf("cancellation to a POS gone: %v, want ErrGone", err)
	}
	if a, err := again.Do(ctx, pay); err != nil || a.Status != Cancelled || a.Reason != "pos_gone" {
		t.Fatalf("the id after: %+v, %v; want cancelled pos_gone", a, err)
	}
}
