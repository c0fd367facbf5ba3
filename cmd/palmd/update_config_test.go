package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/firmware/console"
	"github.com/palmd/palmd/secureboot"
)

// TestSignedConfig: a signed config from the cloud is verified, checked
// against the config minimum and palmd's own validation, refused if it is
// for another kiosk, and otherwise saved; the log level applies at once,
// and each outcome is a "config" event (telemetry).
func TestSignedConfig(t *testing.T) {
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	pem, _ := secureboot.MarshalPublicKey(pub)
	keys := filepath.Join(dir, "keys.pem")
	if err := os.WriteFile(keys, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	doc := func(device, level, extra string) []byte {
		return fmt.Appendf(nil, `{"device_id": %q, "hardware": "sim", "log_level": %q, "update": {"dir": %q, "keys": %q}%s}`,
			device, level, state, keys, extra)
	}
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, doc("kiosk-7", "info", ""), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := logger(cfg, &bytes.Buffer{})
	st, err := openState(cfg.Update, time.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := make(chan bus.Event, 16)
	emit := func(ev bus.Event) { events <- ev }
	d, err := newUpdateDriver(st, idleKiosk{}, clockwork.NewRealClock(), emit, log, updateHooks{})
	if err != nil {
		t.Fatal(err)
	}
	a := &configApplier{updates: d, level: log.Handler().(liveLevel).level, emit: emit, log: log, running: cfg}

	sign := func(key ed25519.PrivateKey, v uint64, payload []byte) []byte {
		var b bytes.Buffer
		if _, err := secureboot.SignConfig(&b, key, secureboot.Manifest{Product: "palmkiosk", Version: v, Created: time.Unix(1_700_000_000, 0)}, payload); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tampered := sign(priv, 9, doc("kiosk-7", "warn", ""))
	tampered[len(tampered)-3] ^= 1
	var firmwareBundle bytes.Buffer
	if _, err := secureboot.SignBundle(&firmwareBundle, priv, secureboot.Manifest{Product: "palmkiosk", Version: 9, Created: time.Unix(1_700_000_000, 0)},
		strings.NewReader("image")); err != nil {
		t.Fatal(err)
	}
	baud := `, "linux": {"card_reader": {"port": "/dev/ttyUSB0", "baud": 19200}}`
	tests := []struct {
		name   string
		signed []byte
		want   string
		level  slog.Level // after
		file   []byte     // the config file after; nil: unchanged
	}{
		{"log level", sign(priv, 3, doc("kiosk-7", "debug", "")), "applied:3", slog.LevelDebug, doc("kiosk-7", "debug", "")},
		{"older", sign(priv, 2, doc("kiosk-7", "warn", "")), "refused:rollback", slog.LevelDebug, nil},
		{"unknown key", sign(otherKey, 4, doc("kiosk-7", "warn", "")), "refused:bad_signature", slog.LevelDebug, nil},
		{"tampered", tampered, "refused:digest", slog.LevelDebug, nil},
		{"a firmware bundle", firmwareBundle.Bytes(), "refused:wrong_kind", slog.LevelDebug, nil},
		{"another kiosk", sign(priv, 5, doc("kiosk-8", "warn", "")), "refused:not_for_this_kiosk", slog.LevelDebug, nil},
		{"invalid", sign(priv, 6, doc("kiosk-7", "loud", "")), "refused:invalid", slog.LevelDebug, nil},
		{"needs a restart", sign(priv, 7, doc("kiosk-7", "warn", baud)), "saved:7", slog.LevelWarn, doc("kiosk-7", "warn", baud)},
		{"older than the last accepted", sign(priv, 6, doc("kiosk-7", "error", "")), "refused:rollback", slog.LevelWarn, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(path)
			a.apply(tt.signed)
			select {
			case ev := <-events:
				if ev.Event != evConfig || ev.Reason != tt.want {
					t.Fatalf("event %s %q, want config %q", ev.Event, ev.Reason, tt.want)
				}
			default:
				t.Fatal("no config event")
			}
			if got := a.level.Level(); got != tt.level {
				t.Errorf("log level %v, want %v", got, tt.level)
			}
			after, _ := os.ReadFile(path)
			want := tt.file
			if want == nil {
				want = before
			}
			if !bytes.Equal(after, want) {
				t.Errorf("config file:\n%s\nwant\n%s", after, want)
			}
			if _, err := config.Load(path); err != nil {
				t.Errorf("the saved config does not load: %v", err)
			}
		})
	}
	if s, err := d.status(t.Context()); err != nil || s.MinConfig != 7 {
		t.Errorf("config minimum %d, %v; want 7", s.MinConfig, err)
	}

	// The console's technicians apply at once: added, then removed.
	rec := &keyRecorder{}
	a.console = rec
	techPub, _, _ := ed25519.GenerateKey(nil)
	techs := fmt.Sprintf(`, "linux": {"card_reader": {"port": "/dev/ttyUSB0", "baud": 19200}}, "console": {"technicians": [{"role": "factory", "key": %q, "name": "fab"}]}`,
		base64.StdEncoding.EncodeToString(techPub))
	for _, tt := range []struct {
		name, extra, want string
		version           uint64
		keys              []console.Key
	}{
		{"technician added", techs, "applied:8", 8, []console.Key{{Name: "fab", Role: console.RoleFactory, Pub: techPub}}},
		{"technician removed", baud, "applied:9", 9, []console.Key{}},
	} {
		a.apply(sign(priv, tt.version, doc("kiosk-7", "warn", tt.extra)))
		if ev := <-events; ev.Reason != tt.want {
			t.Errorf("%s: config event %q, want %q", tt.name, ev.Reason, tt.want)
		}
		if !reflect.DeepEqual(rec.last, tt.keys) {
			t.Errorf("%s: the console's keys %v, want %v", tt.name, rec.last, tt.keys)
		}
	}
}

// keyRecorder is a console that keeps the last keys it was given.
type keyRecorder struct{ last []console.Key }

func (k *keyRecorder) SetKeys(keys []console.Key) { k.last = keys }
