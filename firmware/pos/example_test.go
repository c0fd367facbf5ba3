package pos_test

import (
	"context"
	"fmt"
	"net"

	"github.com/palmd/palmd/firmware/pos"
)

// approveAll is a kiosk that approves every request.
type approveAll struct{}

func (approveAll) Request(_ uint64, r pos.Request, reply func(pos.Answer) error) {
	reply(pos.Answer{Status: pos.Approved, Reference: "pay-1"})
}
func (approveAll) Gone(uint64) {}

func Example() {
	kiosk, till := net.Pipe()
	go pos.NewServer(approveAll{}, nil).ServeConn(context.Background(), kiosk)
	c := pos.NewClient(till)
	defer c.Close()
	req := pos.Request{ID: "m1", Type: pos.Pay, Amount: 1250, Currency: "EUR", Merchant: "Corner Shop"}
	a, err := c.Do(context.Background(), req)
	fmt.Println(a.ID, a.Status, a.Reference, err)
	again, _ := c.Do(context.Background(), req) // the same id: the same answer, nothing new
	fmt.Println(again.Status, again.Reference)
	// Output:
	// m1 approved pay-1 <nil>
	// approved pay-1
}
