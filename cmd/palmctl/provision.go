package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/palmd/palmd/firmware/console"
)

// provisionFiles are palmctl provision's files, by the console's part names.
type provisionFiles struct {
	creds, ca, cert, key, config string
}

func (p *provisionFiles) register(fs *flag.FlagSet) {
	fs.StringVar(&p.creds, "creds", "", "the kiosk's NATS credentials `file`")
	fs.StringVar(&p.ca, "ca", "", "the cloud's CA `file` (PEM)")
	fs.StringVar(&p.cert, "cert", "", "the kiosk's client certificate `file` (PEM)")
	fs.StringVar(&p.key, "key", "", "the kiosk's client key `file` (PEM); the login key is -key before provision")
	fs.StringVar(&p.config, "config", "", "the kiosk's config `file`, signed with the release keys (fwsign)")
}

// provision sends credentials and a signed config to a kiosk in its
// not-provisioned mode (a factory key's login) and commits them with the
// SHA-256 of what was sent. c is how to reach and log in to the console
// (the flags before "provision").
func provision(ctx context.Context, c conn, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("palmctl provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files provisionFiles
	files.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("provision: unexpected argument %q", fs.Arg(0))}
	}
	if files.config == "" {
		return usageError{errors.New("provision: -config is required (the signed config)")}
	}
	type part struct {
		name string
		b    []byte
	}
	var parts []part
	defer func() {
		for _, p := range parts {
			clear(p.b)
		}
	}()
	for _, f := range []struct{ name, path string }{
		{console.PartCreds, files.creds}, {console.PartCA, files.ca}, {console.PartCert, files.cert},
		{console.PartKey, files.key}, {console.PartConfig, files.config},
	} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return fmt.Errorf("provision: %s: %w", f.name, err)
		}
		parts = append(parts, part{f.name, b})
	}
	cl, err := c.open()
	if err != nil {
		return err
	}
	defer cl.Close() // logs out: an unfinished transfer is dropped
	step := func(line, what string) (answer, error) {
		if ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		a, err := cl.do(line)
		if err == nil && a.err != "" {
			err = errors.New(a.err)
		}
		if err != nil {
			return a, fmt.Errorf("provision %s: %w", what, err)
		}
		return a, nil
	}
	if _, err := step("provision begin", "begin"); err != nil {
		return err
	}
	sum := sha256.New()
	chunk := base64.StdEncoding.DecodedLen(console.ProvisionChunk)
	for _, p := range parts {
		for b := p.b; len(b) > 0; {
			n := min(len(b), chunk)
			sum.Write(b[:n])
			if _, err := step("provision data "+p.name+" "+base64.StdEncoding.EncodeToString(b[:n]), p.name); err != nil {
				return err
			}
			b = b[n:]
		}
	}
	a, err := step("provision commit "+hex.EncodeToString(sum.Sum(nil))+" --json", "commit")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", a.raw)
	return err
}
