package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
)

// usageError is a bad command line: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

const usage = `palmctl is the client for a palm kiosk's console.

Usage:
  palmctl keygen -key FILE -user NAME [-role technician|factory]
  palmctl [-socket PATH | -serial DEVICE] -key FILE -user NAME COMMAND [ARGS] [--json]
  palmctl [-socket PATH | -serial DEVICE] -key FILE -user NAME provision
          [-creds FILE] [-ca FILE] [-cert FILE -key FILE] -config SIGNED
  palmctl hil run [-junit FILE] [-palmd BINARY [-parallel N] | -socket PATH -key FILE -user NAME] FILES...

Console commands: help, status, logs, maintenance on|off, test PART, selftest,
network, reboot, provision, expect, sim. --json answers in one JSON object.

Flags:
`

// conn are the flags that say how to reach and log in to a console.
type conn struct {
	socket, serial, key, user string
	baud                      int
}

func (c *conn) register(fs *flag.FlagSet) {
	fs.StringVar(&c.socket, "socket", "/run/palmd/console.sock", "the console's unix socket `path`")
	fs.StringVar(&c.serial, "serial", "", "the console's serial `device` (instead of the socket)")
	fs.IntVar(&c.baud, "baud", 115200, "serial line speed")
	fs.StringVar(&c.key, "key", "", "the technician's private key `file` (PKCS#8 PEM Ed25519)")
	fs.StringVar(&c.user, "user", "", "the technician's `name` on the kiosk")
}

// open connects and logs in.
func (c conn) open() (*client, error) {
	if c.key == "" || c.user == "" {
		return nil, usageError{errors.New("-key and -user are required to log in")}
	}
	key, err := loadKey(c.key)
	if err != nil {
		return nil, usageError{err}
	}
	cl, err := dial(c.socket, c.serial, c.baud)
	if err != nil {
		return nil, err
	}
	if err := cl.login(c.user, key); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "keygen" {
		return keygen(args[1:], stdout, stderr)
	}
	if len(args) > 1 && args[0] == "hil" && args[1] == "run" {
		return hilRun(ctx, args[2:], stdout, stderr)
	}
	fs := flag.NewFlagSet("palmctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c conn
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no command (try: palmctl -key FILE -user NAME help)")}
	}
	if fs.Arg(0) == "provision" && fs.NArg() > 1 {
		return provision(ctx, c, fs.Args()[1:], stdout, stderr)
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.Close()
	a, err := cl.do(strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	if a.err != "" {
		return errors.New(a.err)
	}
	var t struct{ Text *string }
	if json.Unmarshal(a.raw, &t) == nil && t.Text != nil {
		_, err = io.WriteString(stdout, strings.TrimRight(*t.Text, "\n")+"\n")
		return err
	}
	_, err = stdout.Write(a.raw)
	return err
}

func keygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("palmctl keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("key", "", "write the private key to `file` (mode 0600)")
	user := fs.String("user", "", "the technician's `name`")
	role := fs.String("role", string(console.RoleTechnician), "technician or factory")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *path == "" || *user == "" {
		return usageError{errors.New("keygen: -key and -user are required")}
	}
	if !config.ValidLoginName(*user) {
		return usageError{fmt.Errorf("keygen: -user %q: want %s", *user, config.LoginNames)}
	}
	if r := console.Role(*role); r != console.RoleTechnician && r != console.RoleFactory {
		return usageError{fmt.Errorf("keygen: -role %q: want technician or factory", *role)}
	}
	tech, _, err := writeKey(*path, *user, console.Role(*role))
	if err != nil {
		return err
	}
	// The entry for the signed config's console.technicians.
	b, err := json.Marshal(tech)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}
