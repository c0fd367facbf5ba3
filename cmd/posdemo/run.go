package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/palmd/palmd/firmware/pos"
)

type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// errNotApproved is the exit status of an answer that is not an approval.
var errNotApproved = errors.New("not approved")

// run is posdemo without the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("posdemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:7700", "the kiosk's POS `address`")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("want a command: pay, loyalty or age")}
	}
	req, cancelAfter, err := parseRequest(fs.Arg(0), fs.Args()[1:], stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c, err := pos.Dial(ctx, *addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Send(req); err != nil {
		return err
	}
	if cancelAfter > 0 {
		go func() {
			select {
			case <-time.After(cancelAfter):
				c.Send(pos.Request{ID: req.ID + "-cancel", Type: pos.Cancel, Ref: req.ID})
			case <-ctx.Done():
			}
		}()
	}
	a, err := c.Await(ctx, req.ID)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(a)
	fmt.Fprintln(stdout, string(b))
	if a.Status != pos.Approved {
		return fmt.Errorf("%w: %s %s", errNotApproved, a.Status, a.Reason)
	}
	if a.Over != nil && !*a.Over {
		return fmt.Errorf("%w: not over %d", errNotApproved, req.Over)
	}
	return nil
}

func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err}
}

// parseRequest reads one command's flags into a request.
func parseRequest(cmd string, args []string, stderr io.Writer) (pos.Request, time.Duration, error) {
	fs := flag.NewFlagSet("posdemo "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", newID(), "the message `id`; the same id again is never charged twice")
	var r pos.Request
	var amount string
	var cancelAfter time.Duration
	switch cmd {
	case "pay":
		fs.StringVar(&amount, "amount", "", "the `amount`, e.g. 12.50")
		fs.StringVar(&r.Currency, "currency", "EUR", "ISO 4217 `code`")
		fs.StringVar(&r.Merchant, "merchant", "Example Shop", "the merchant `name` shown")
		fs.DurationVar(&cancelAfter, "cancel-after", 0, "cancel the payment after this `duration` if it is not answered")
		r.Type = pos.Pay
	case "loyalty":
		r.Type = pos.Loyalty
	case "age":
		fs.IntVar(&r.Over, "over", 18, "the age in `years` to be over")
		r.Type = pos.Age
	default:
		return r, 0, usageError{fmt.Errorf("%q: want pay, loyalty or age", cmd)}
	}
	if err := fs.Parse(args); err != nil {
		return r, 0, usageErr(err)
	}
	r.ID, r.V = *id, pos.Version
	if cmd == "pay" {
		minor, err := parseAmount(amount)
		if err != nil {
			return r, 0, usageError{err}
		}
		r.Amount = minor
	}
	if err := r.Validate(); err != nil {
		return r, 0, usageError{err}
	}
	return r, cancelAfter, nil
}

// parseAmount reads "12.50" as 1250 minor units.
func parseAmount(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1e7 {
		return 0, fmt.Errorf("-amount %q: want a positive amount such as 12.50", s)
	}
	return int64(math.Round(f * 100)), nil
}

func newID() string {
	var b [6]byte
	rand.Read(b[:])
	return "pos-" + hex.EncodeToString(b[:])
}
