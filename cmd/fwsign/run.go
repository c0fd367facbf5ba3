package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
)

// errUsage is a usage error; its message has already been printed.
var errUsage = errors.New("fwsign: usage")

// errHelped reports that -h printed a command's usage: nothing else to do.
var errHelped = errors.New("fwsign: help printed")

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `fwsign signs firmware bundles, device configuration and releases, and verifies them.

usage:
  fwsign keygen -out DIR
  fwsign bundle -key KEY -version N [-release R] [-product P] [-created UNIX] -image IMG -out BUNDLE
  fwsign config -key KEY -version N [-release R] [-product P] [-created UNIX] -in config.json -out config.signed
  fwsign release -key KEY -version N [-release R] [-product P] [-created UNIX] -exe palmd -out release.sig
  fwsign verify -pub PUB [-config] [-product P] [-min N] FILE
`

// Key file names written by keygen.
const (
	privateKeyFile = "fwsign.key"
	publicKeyFile  = "fwsign.pub"
)

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("fwsign "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "fwsign", version)
		return nil
	case "keygen":
		out := fs.String("out", "", "directory for fwsign.key and fwsign.pub")
		if err := parse(fs, args, stderr, "", "out"); err != nil {
			return err
		}
		return keygen(*out, stdout)
	case "bundle", "config", "release":
		s := signer{kind: cmd}
		fs.StringVar(&s.key, "key", "", "private key file (PEM)")
		fs.Uint64Var(&s.m.Version, "version", 0, "anti-rollback `version` (rises with every release)")
		fs.StringVar(&s.m.Release, "release", "", "human release string, e.g. 1.4.2")
		fs.StringVar(&s.m.Product, "product", "palmkiosk", "product name")
		created := fs.Int64("created", 0, "creation time in Unix seconds (default now; e.g. $SOURCE_DATE_EPOCH)")
		in := map[string]string{"bundle": "image", "config": "in", "release": "exe"}[cmd]
		fs.StringVar(&s.in, in, "", "input file ('-' for standard input with config)")
		fs.StringVar(&s.out, "out", "", "output file")
		if err := parse(fs, args, stderr, "", "key", "version", in, "out"); err != nil {
			return err
		}
		s.m.Created = time.Now()
		if *created != 0 {
			s.m.Created = time.Unix(*created, 0)
		}
		return s.sign(ctx, stdin, stdout)
	case "verify":
		pub := fs.String("pub", "", "trusted public key file (PEM, one or more keys)")
		isConfig := fs.Bool("config", false, "FILE is a signed config, not a firmware bundle")
		product := fs.String("product", "palmkiosk", "product name")
		minVersion := fs.Uint64("min", 0, "minimum accepted version")
		if err := parse(fs, args, stderr, "FILE", "pub"); err != nil {
			return err
		}
		return verify(ctx, *pub, fs.Arg(0), *isConfig, secureboot.Policy{Product: *product, MinVersion: *minVersion}, stdout)
	default:
		fmt.Fprintf(stderr, "fwsign: unknown command %q\n%s", cmd, usage)
		return errUsage
	}
}

// parse parses args and checks that every flag in required was set and
// that the positional arguments are what the command takes: none when arg
// is "", otherwise exactly one, named arg in the message.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer, arg string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) { // asked for (flag printed it): exit 0
			return errHelped
		}
		return err // flag has printed it
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range required {
		if !set[name] {
			fmt.Fprintf(stderr, "%s: -%s is required\n", fs.Name(), name)
			return errUsage
		}
	}
	switch {
	case arg == "" && fs.NArg() != 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	case arg != "" && fs.NArg() != 1:
		fmt.Fprintf(stderr, "%s: want one %s\n", fs.Name(), arg)
		return errUsage
	}
	return nil
}

func keygen(dir string, stdout io.Writer) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	privPEM, err := secureboot.MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	pubPEM, err := secureboot.MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	clear(priv)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	privPath, pubPath := filepath.Join(dir, privateKeyFile), filepath.Join(dir, publicKeyFile)
	if err := writeNew(privPath, privPEM, 0o600); err != nil {
		return err
	}
	clear(privPEM)
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "private key: %s (keep it offline)\npublic key:  %s\n", privPath, pubPath)
	return nil
}

// writeNew creates path, refusing to overwrite an existing file.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type signer struct {
	kind    string // "bundle", "config" or "release"
	key     string
	in, out string
	m       secureboot.Manifest
}

func (s signer) sign(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	keyPEM, err := os.ReadFile(s.key)
	if err != nil {
		return err
	}
	key, err := secureboot.ParsePrivateKey(keyPEM)
	clear(keyPEM)
	if err != nil {
		return err
	}
	defer clear(key)

	var m secureboot.Manifest
	err = writeAtomic(s.out, func(w io.Writer) error {
		if s.kind == "config" {
			m, err = signConfig(w, key, s.m, s.in, stdin)
			return err
		}
		f, err := os.Open(s.in)
		if err != nil {
			return err
		}
		defer f.Close()
		if s.kind == "release" {
			m, err = secureboot.SignRelease(w, key, s.m, ctxFile{ctx, f})
			return err
		}
		m, err = secureboot.SignBundle(w, key, s.m, ctxFile{ctx, f})
		return err
	})
	if err != nil {
		return err
	}
	return printManifest(stdout, m)
}

func signConfig(w io.Writer, key ed25519.PrivateKey, m secureboot.Manifest, in string, stdin io.Reader) (secureboot.Manifest, error) {
	r := stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return m, err
		}
		defer f.Close()
		r = f
	}
	doc, err := io.ReadAll(io.LimitReader(r, secureboot.MaxConfigSize+1))
	if err != nil {
		return m, err
	}
	if len(doc) > secureboot.MaxConfigSize {
		return m, fmt.Errorf("%s: larger than %d bytes", in, secureboot.MaxConfigSize)
	}
	// Sign only what palmd will accept.
	if _, err := config.Parse(doc); err != nil {
		return m, err
	}
	return secureboot.SignConfig(w, key, m, doc)
}

// ctxFile stops reading when ctx is done. It has only Read and Seek, so
// io.Copy cannot go around Read through *os.File's WriteTo.
type ctxFile struct {
	ctx context.Context
	f   *os.File
}

func (c ctxFile) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.f.Read(p)
}

func (c ctxFile) Seek(off int64, whence int) (int64, error) { return c.f.Seek(off, whence) }

// writeAtomic writes path through a temporary file beside it, renamed into
// place only if write succeeds.
func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func verify(ctx context.Context, pubPath, path string, isConfig bool, p secureboot.Policy, stdout io.Writer) error {
	pubPEM, err := os.ReadFile(pubPath)
	if err != nil {
		return err
	}
	if p.Keys, err = secureboot.ParsePublicKeys(pubPEM); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var m secureboot.Manifest
	if isConfig {
		m, _, err = p.VerifyConfig(ctxFile{ctx, f})
	} else {
		m, err = p.VerifyBundle(ctxFile{ctx, f})
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return printManifest(stdout, m)
}

func printManifest(w io.Writer, m secureboot.Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
