package cloud_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/palmd/palmd/uplink/cloud"
	"github.com/palmd/palmd/uplink/dev/devtest"
)

// TestServeQueueSideBySide: the bundle service answers requests side by
// side. With every worker held inside a request, as many are in progress
// as there are workers; the others wait, and are answered once the workers
// are let go, the subscription drained.
func TestServeQueueSideBySide(t *testing.T) { devtest.Bubble(t, testServeQueueSideBySide) }

func testServeQueueSideBySide(t *testing.T) {
	srv, err := server.NewServer(&server.Options{DontListen: true, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	defer srv.WaitForShutdown()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	const workers, sent = 3, 5
	release := make(chan struct{})
	var inProgress, answered atomic.Int32
	b, err := cloud.ServeQueue(nc, "work.>", workers, func(*nats.Msg) {
		inProgress.Add(1)
		<-release
		inProgress.Add(-1)
		answered.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range sent {
		if err := nc.Publish(fmt.Sprintf("work.%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	if got := inProgress.Load(); got != workers {
		t.Errorf("%d requests in progress with %d workers held, want %d", got, workers, workers)
	}
	if got := answered.Load(); got != 0 {
		t.Errorf("%d answered while every worker is held", got)
	}
	close(release)
	if err := b.Drain(); err != nil {
		t.Fatal(err)
	}
	synctest.Wait()
	b.Wait()
	if got := answered.Load(); got != sent {
		t.Errorf("%d of %d requests answered after the drain", got, sent)
	}
}
