package config

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Config is palmd's configuration file (JSON). Zero values mean "use the
// default"; Default returns a Config with every default filled in.
type Config struct {
	// DeviceID names this kiosk to the cloud; it appears in NATS subjects.
	DeviceID string `json:"device_id"`
	// Hardware is "sim" or "linux".
	Hardware string `json:"hardware"`
	// LogLevel is debug, info, warn or error (slog's names, with an
	// optional offset such as "info+2").
	LogLevel slog.Level `json:"log_level"`
	// Language is the language of the kiosk's screens, a BCP 47 tag the
	// firmware's catalogue has (firmware.Languages: "en", "de"); empty is
	// English.
	Language string `json:"language,omitempty"`
	// Uplink says how to reach the cloud. With no URL, palmd starts an
	// embedded NATS server and the reference cloud in-process.
	Uplink Uplink `json:"uplink"`
	// Linux names every device path, pin and bus for --hw=linux.
	Linux Linux `json:"linux"`
	// Update says where palmd keeps what outlives a restart and how it
	// updates itself (package secureboot).
	Update Update `json:"update"`
	// POS is the point-of-sale link, if the kiosk has one (pos.go).
	POS POS `json:"pos"`
	// Console says who may log in to the technician's console (console.go).
	Console Console `json:"console"`

	// Path is the file Load read, empty for the defaults or Parse.
	Path string `json:"-"`
}

// Update is palmd's state on the data partition and its updater.
type Update struct {
	// Dir is palmd's directory on the data partition: the device key, the
	// sealed command sequence and slot state, staged bundles. Empty keeps
	// nothing across a restart: commands are then checked against nonces
	// only, and update and config commands are refused.
	Dir string `json:"dir"`
	// Counter is the monotonic counter the sealed files are bound to:
	// "tpm" (a TPM 2.0 NV counter, /dev/tpmrm0) or "file" (a file in Dir,
	// which protects nothing: the simulation's stand-in).
	Counter string `json:"counter"`
	// Updater installs bundles: "rauc" (the kiosk image) or "file" (a pair
	// of slot files in Dir, the simulation).
	Updater string `json:"updater"`
	// Keys is the PEM file of the release keys that sign bundles and
	// config (fwsign keygen).
	Keys string `json:"keys"`
	// Release is the running palmd's signed release header (fwsign
	// release): its version is the anti-rollback floor. Empty: no floor.
	Release string `json:"release"`
	// Product is the device family bundles and config must name.
	Product string `json:"product"`
}

// Uplink is the cloud connection.
type Uplink struct {
	// URL is the cloud's NATS URL, or several separated by commas.
	URL string `json:"url"`
	// Creds is a NATS credentials file (user JWT + nkey seed) for this kiosk.
	Creds string `json:"creds"`
	// CA, Cert and Key are PEM files: the server's CA and this device's
	// client certificate and key for mutual TLS.
	CA   string `json:"ca"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
	// SealKey is the cloud's HPKE public key (base64) captures are sealed to.
	SealKey string `json:"seal_key"`
	// PaymentKey is the payment side's HPKE public key (base64) card numbers are sealed to.
	PaymentKey string `json:"payment_key"`
	// SignKey is the cloud's Ed25519 public key (base64) that signs decisions and commands.
	SignKey string `json:"sign_key"`

	// Keys holds SealKey, PaymentKey and SignKey decoded and checked; Load
	// and Parse fill it in. A key left empty stays nil.
	Keys Keys `json:"-"`
}

// Keys are the uplink's public keys, decoded.
type Keys struct {
	// Seal and Payment are X-Wing (ML-KEM-768 + X25519) HPKE public keys,
	// HPKEKeySize bytes each.
	Seal, Payment []byte
	// Sign is the Ed25519 key that signs decisions and commands.
	Sign ed25519.PublicKey
}

// HPKEKeySize is the length of an X-Wing public key: ML-KEM-768's 1184
// bytes and X25519's 32.
const HPKEKeySize = 1216

// Default returns the configuration palmd runs with when no file is given.
func Default() Config {
	return Config{
		DeviceID: "kiosk-dev-1",
		Hardware: "sim",
		LogLevel: slog.LevelInfo,
		Linux:    DefaultLinux(),
		Update:   Update{Counter: "file", Updater: "file", Product: "palmkiosk"},
	}
}

// Option changes a Config after the file is read and before it is
// validated: palmd's flags, which override the file. An Option given an
// empty string changes nothing (the flag was not given).
type Option func(*Config) error

// Hardware overrides "hardware" (palmd -hw).
func Hardware(hw string) Option {
	return func(c *Config) error {
		if hw != "" {
			c.Hardware = hw
		}
		return nil
	}
}

// URL overrides "uplink.url" (palmd -nats).
func URL(u string) Option {
	return func(c *Config) error {
		if u != "" {
			c.Uplink.URL = u
		}
		return nil
	}
}

// LogLevel overrides "log_level" (palmd -log-level).
func LogLevel(level string) Option {
	return func(c *Config) error {
		if level == "" {
			return nil
		}
		if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
			return fmt.Errorf("config: -log-level: %q: want debug, info, warn or error", level)
		}
		return nil
	}
}

// Load is the one validation palmd runs, both for "palmd -t" and at start:
// it reads the file at path (none if path is empty: the defaults), applies
// opts (the flags), validates every field and decodes the keys. Its errors
// name the file and the line and column of a syntax error, and the field
// path of a bad value:
//
//	config: /data/palmd/config.json:4:53: linux.card_reader.baud: want a number, got "fast"
//
// A valid Config may still lack credentials: see Missing.
func Load(path string, opts ...Option) (Config, error) {
	if path == "" {
		return finish("", Default(), opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("config: %s: %w", path, err)
	}
	c, err := parse(path, b, opts)
	if err != nil {
		return Config{}, err
	}
	c.Path = path
	return c, nil
}

// Parse is Load for a document already in memory (a signed config from the
// cloud, say); errors name no file.
func Parse(b []byte, opts ...Option) (Config, error) {
	return parse("", b, opts)
}

func parse(name string, b []byte, opts []Option) (Config, error) {
	prefix := "config: "
	if name != "" {
		prefix += name + ":"
	}
	if len(b) > MaxSize {
		return Config{}, fmt.Errorf("%s larger than %d bytes", strings.TrimSuffix(prefix, ":"), MaxSize)
	}
	if err := checkShape(b, reflect.TypeFor[Config]()); err != nil {
		return Config{}, errors.New(prefix + err.Error())
	}
	c := Default()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// checkShape has accepted the document, so this is a bug.
		return Config{}, fmt.Errorf("%s internal: shape check missed: %w", prefix, err)
	}
	return finish(name, c, opts)
}

func finish(name string, c Config, opts []Option) (Config, error) {
	for _, o := range opts {
		if err := o(&c); err != nil {
			return Config{}, err
		}
	}
	keys, err := c.check()
	if err != nil {
		if name != "" {
			err = fmt.Errorf("config: %s: %w", name, errors.Unwrap(err))
		}
		return Config{}, err
	}
	c.Uplink.Keys = keys
	return c, nil
}

// fieldError is a bad value, named by its field path.
type fieldError struct{ msg string }

func (e fieldError) Error() string { return e.msg }

// Validate reports the first field that is wrong, by its JSON path. It is
// the check Load runs; Load also decodes the keys.
func (c Config) Validate() error {
	_, err := c.check()
	return err
}

// check validates c and returns its decoded keys. Its errors are
// "config: " wrapping the field's own message.
func (c Config) check() (Keys, error) {
	fail := func(format string, args ...any) (Keys, error) {
		return Keys{}, fmt.Errorf("config: %w", fieldError{fmt.Sprintf(format, args...)})
	}
	if c.DeviceID == "" {
		return fail("device_id: must not be empty")
	}
	for _, r := range c.DeviceID {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fail("device_id: %q: only a-z, 0-9 and '-' are allowed (it is part of NATS subjects)", c.DeviceID)
		}
	}
	if len(c.DeviceID) > 64 {
		return fail("device_id: %d characters, at most 64", len(c.DeviceID))
	}
	switch c.Hardware {
	case "sim":
	case "linux":
		if msg := c.Linux.check(); msg != "" {
			return fail("linux.%s", msg)
		}
	default:
		return fail("hardware: %q: want \"sim\" or \"linux\"", c.Hardware)
	}
	switch c.LogLevel {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
	default:
		return fail("log_level: %q: want debug, info, warn or error", c.LogLevel.String())
	}
	if msg := c.Uplink.check(); msg != "" {
		return fail("uplink.%s", msg)
	}
	if msg := c.Update.check(); msg != "" {
		return fail("update.%s", msg)
	}
	if msg := c.POS.check(); msg != "" {
		return fail("pos.%s", msg)
	}
	if msg := c.Console.check(); msg != "" {
		return fail("console.%s", msg)
	}
	var k Keys
	var msg string
	if k.Seal, msg = hpkeKey(c.Uplink.SealKey); msg != "" {
		return fail("uplink.seal_key: %s", msg)
	}
	if k.Payment, msg = hpkeKey(c.Uplink.PaymentKey); msg != "" {
		return fail("uplink.payment_key: %s", msg)
	}
	var sign []byte
	if sign, msg = decodeKey(c.Uplink.SignKey, ed25519.PublicKeySize, "an Ed25519 public key"); msg != "" {
		return fail("uplink.sign_key: %s", msg)
	}
	if sign != nil {
		k.Sign = ed25519.PublicKey(sign)
	}
	if k.Seal != nil && k.Payment != nil && bytes.Equal(k.Seal, k.Payment) {
		return fail("uplink.payment_key: the same key as uplink.seal_key; card numbers are sealed to the payment side's own key")
	}
	return k, nil
}

// decodeKey decodes a standard base64 key of exactly size bytes; empty is nil.
func decodeKey(b64 string, size int, what string) ([]byte, string) {
	if b64 == "" {
		return nil, ""
	}
	b, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Sprintf("not standard base64 (%v)", err)
	}
	if len(b) != size {
		return nil, fmt.Sprintf("%d bytes, want %d (%s)", len(b), size, what)
	}
	return b, ""
}

func hpkeKey(b64 string) ([]byte, string) {
	b, msg := decodeKey(b64, HPKEKeySize, "an X-Wing HPKE public key")
	if b == nil {
		return nil, msg
	}
	if _, err := hpke.MLKEM768X25519().NewPublicKey(b); err != nil {
		return nil, fmt.Sprintf("not an X-Wing public key (%v)", err)
	}
	return b, ""
}

// check validates the update section.
func (u Update) check() string {
	for _, f := range []struct{ name, path string }{{"dir", u.Dir}, {"keys", u.Keys}, {"release", u.Release}} {
		if f.path != "" && (!strings.HasPrefix(f.path, "/") || strings.Contains(f.path, "..")) {
			return fmt.Sprintf("%s: %q: want an absolute path", f.name, f.path)
		}
	}
	if u.Counter != "tpm" && u.Counter != "file" {
		return fmt.Sprintf("counter: %q: want \"tpm\" or \"file\"", u.Counter)
	}
	if u.Updater != "rauc" && u.Updater != "file" {
		return fmt.Sprintf("updater: %q: want \"rauc\" or \"file\"", u.Updater)
	}
	if u.Product == "" || strings.ContainsFunc(u.Product, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return fmt.Sprintf("product: %q: want a printable name without spaces", u.Product)
	}
	return ""
}

var urlSchemes = []string{"nats", "tls", "ws", "wss"}

// check validates the connection: URLs, TLS and credentials. A URL that
// leaves this machine must use TLS (a tls:// or wss:// URL, or a client
// certificate, with which palmd insists on TLS) and credentials (a creds
// file or a client certificate).
func (u Uplink) check() string {
	for _, f := range []struct{ name, path string }{
		{"creds", u.Creds}, {"ca", u.CA}, {"cert", u.Cert}, {"key", u.Key},
	} {
		if f.path != "" && (!strings.HasPrefix(f.path, "/") || strings.Contains(f.path, "..")) {
			return fmt.Sprintf("%s: %q: want an absolute path", f.name, f.path)
		}
	}
	if (u.Cert == "") != (u.Key == "") {
		return "cert, key: give both (mutual TLS) or neither"
	}
	if u.URL == "" {
		return ""
	}
	remote := false
	tlsURL := true
	for i, raw := range strings.Split(u.URL, ",") {
		p, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Sprintf("url: %q: not a URL", raw)
		}
		if !slices.Contains(urlSchemes, p.Scheme) {
			return fmt.Sprintf("url: %q: want a %s URL", raw, strings.Join(urlSchemes, ", "))
		}
		if p.Hostname() == "" || p.Path != "" && p.Path != "/" || p.RawQuery != "" || p.Fragment != "" {
			return fmt.Sprintf("url: %q: want scheme://host[:port]", raw)
		}
		if port := p.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fmt.Sprintf("url: %q: port %q", raw, port)
			}
		}
		if p.User != nil {
			return fmt.Sprintf("url: URL %d carries a user or password; give credentials in uplink.creds", i+1)
		}
		remote = remote || !loopback(p.Hostname())
		tlsURL = tlsURL && (p.Scheme == "tls" || p.Scheme == "wss")
	}
	if !remote {
		return ""
	}
	if !tlsURL && u.Cert == "" {
		return fmt.Sprintf("url: %q leaves this machine without TLS: use tls:// (or wss://) or a client certificate (uplink.cert, uplink.key)", u.URL)
	}
	if u.Creds == "" && u.Cert == "" {
		return fmt.Sprintf("url: %q leaves this machine without credentials: set uplink.creds or a client certificate", u.URL)
	}
	return ""
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// Missing lists what a kiosk talking to a cloud still needs before it can
// serve: the keys left empty and the credential files named but absent (on
// a kiosk they arrive on the data partition when it is provisioned). palmd
// runs in its not-provisioned mode while Missing is not empty. With no URL
// (the embedded cloud) nothing is missing.
func (c Config) Missing() []string {
	u := c.Uplink
	if u.URL == "" {
		return nil
	}
	var miss []string
	for _, f := range []struct{ name, v string }{
		{"uplink.seal_key", u.SealKey}, {"uplink.payment_key", u.PaymentKey}, {"uplink.sign_key", u.SignKey},
	} {
		if f.v == "" {
			miss = append(miss, f.name)
		}
	}
	for _, f := range []struct{ name, path string }{
		{"uplink.creds", u.Creds}, {"uplink.ca", u.CA}, {"uplink.cert", u.Cert}, {"uplink.key", u.Key},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); errors.Is(err, fs.ErrNotExist) {
			miss = append(miss, f.name+" ("+f.path+")")
		}
	}
	return miss
}
