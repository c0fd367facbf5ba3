package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/firmware/pos"
)

// till answers every request approved, as a kiosk would, and records it.
type till struct{ reqs chan pos.Request }

func (h till) Request(conn uint64, r pos.Request, reply func(pos.Answer) error) {
	h.reqs <- r
	reply(pos.Answer{Status: pos.Approved, Reference: "pay-1"})
}
func (till) Gone(uint64) {}

func TestRun(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := till{reqs: make(chan pos.Request, 4)}
	go pos.NewServer(h, nil).Serve(ctx, l)
	addr := l.Addr().String()
	tests := []struct {
		name   string
		args   []string
		usage  bool
		stdout string
		want   pos.Request
	}{
		{"pay", []string{"-addr", addr, "pay", "-amount", "12.50", "-merchant", "Corner Shop", "-id", "m1"}, false,
			`"status":"approved","reference":"pay-1"`, pos.Request{V: 1, ID: "m1", Type: pos.Pay, Amount: 1250, Currency: "EUR", Merchant: "Corner Shop"}},
		{"age", []string{"-addr", addr, "age", "-over", "21", "-id", "m2"}, false, `"id":"m2"`, pos.Request{V: 1, ID: "m2", Type: pos.Age, Over: 21}},
		{"no amount", []string{"-addr", addr, "pay"}, true, "", pos.Request{}},
		{"bad currency", []string{"-addr", addr, "pay", "-amount", "1", "-currency", "euro"}, true, "", pos.Request{}},
		{"unknown command", []string{"refund"}, true, "", pos.Request{}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(ctx, tt.args, &stdout, &stderr)
		var u usageError
		if tt.usage != errors.As(err, &u) {
			t.Errorf("%s: %v, want usage error %v", tt.name, err, tt.usage)
		}
		if tt.usage {
			continue
		}
		if err != nil || !strings.Contains(stdout.String(), tt.stdout) {
			t.Errorf("%s: %v, stdout %q, want it to hold %s", tt.name, err, stdout.String(), tt.stdout)
		}
		if got := <-h.reqs; got != tt.want {
			t.Errorf("%s: the kiosk got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
