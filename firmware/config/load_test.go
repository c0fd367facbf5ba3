package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.want from what Load returns")

// imageConfig is the kiosk image's own configuration (buildroot overlay).
const imageConfig = "../../buildroot/board/palmkiosk/overlay/usr/share/palmd/config.json"

// outcome renders what Load made of a file: the error, or the settings a
// reader of the file would check.
func outcome(c Config, err error) string {
	if err != nil {
		return err.Error() + "\n"
	}
	return fmt.Sprintf("ok device=%s hardware=%s log_level=%s url=%q keys=%d/%d/%d missing=%v\n",
		c.DeviceID, c.Hardware, c.LogLevel, c.Uplink.URL,
		len(c.Uplink.Keys.Seal), len(c.Uplink.Keys.Payment), len(c.Uplink.Keys.Sign), c.Missing())
}

// TestLoadEveryConfig runs Load, the one validation palmd runs for -t and at
// start, over every configuration in testdata/ and the image's own, and
// compares the outcome with the file's .want.
func TestLoadEveryConfig(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, imageConfig)
	if len(files) < 20 {
		t.Fatalf("only %d configs found", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			c, err := Load(path)
			got := outcome(c, err)
			want := strings.TrimSuffix(path, ".json") + ".want"
			if path == imageConfig {
				want = "testdata/image.want"
			}
			if *update {
				if err := os.WriteFile(want, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, rerr := os.ReadFile(want)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if got != string(b) {
				t.Errorf("Load(%s):\n got  %s want %s", path, got, b)
			}
			if strings.HasPrefix(filepath.Base(path), "bad_") != (err != nil) {
				t.Errorf("Load(%s) = %v: files named bad_* must be refused, the others accepted", path, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "config: "+path+":") {
				t.Errorf("error %q does not name the file", err)
			}
			// The same bytes from memory give the same verdict, without the name.
			doc, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			c2, err2 := Parse(doc)
			bare := strings.Replace(strings.Replace(got, path+":", "", 1), "config:  ", "config: ", 1)
			if got2 := outcome(c2, err2); bare != got2 {
				t.Errorf("Parse and Load disagree:\n Load  %s Parse %s", got, got2)
			}
		})
	}
}

func TestOptionsOverrideTheFile(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"none", nil, `ok device=kiosk-store12-3 hardware=linux log_level=INFO url="" keys=0/0/0 missing=[]`},
		{"empty strings change nothing", []Option{Hardware(""), URL(""), LogLevel("")},
			`ok device=kiosk-store12-3 hardware=linux log_level=INFO url="" keys=0/0/0 missing=[]`},
		{"hw and level", []Option{Hardware("sim"), LogLevel("warn")},
			`ok device=kiosk-store12-3 hardware=sim log_level=WARN url="" keys=0/0/0 missing=[]`},
		{"loopback url needs no keys yet", []Option{URL("nats://localhost:4222")},
			`ok device=kiosk-store12-3 hardware=linux log_level=INFO url="nats://localhost:4222" keys=0/0/0 missing=[uplink.seal_key uplink.payment_key uplink.sign_key]`},
		{"bogus level", []Option{LogLevel("loud")}, `config: -log-level: "loud": want debug, info, warn or error`},
		{"bogus hw", []Option{Hardware("real")}, `config: testdata/rpi.json: hardware: "real": want "sim" or "linux"`},
		{"url that is not one", []Option{URL("not a url")}, `config: testdata/rpi.json: uplink.url: "not a url": want a nats, tls, ws, wss URL`},
		{"remote without tls", []Option{URL("nats://10.0.0.5:4222")},
			`config: testdata/rpi.json: uplink.url: "nats://10.0.0.5:4222" leaves this machine without TLS: use tls:// (or wss://) or a client certificate (uplink.cert, uplink.key)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("testdata/rpi.json", tt.opts...)
			if got := strings.TrimSuffix(outcome(c, err), "\n"); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoadWithoutAFileIsTheDefault(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.DeviceID != "kiosk-dev-1" || c.Hardware != "sim" || c.Uplink.URL != "" || len(c.Missing()) != 0 {
		t.Errorf("Load(\"\") = %+v", c)
	}
	if _, err := Load("testdata/no-such-file.json"); err == nil || !strings.Contains(err.Error(), "no-such-file.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestMissingSeesAbsentCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "kiosk.creds")
	c := Default()
	c.Uplink = Uplink{URL: "tls://nats.palm.example", Creds: creds, SealKey: "x", PaymentKey: "x", SignKey: "x"}
	if got := fmt.Sprint(c.Missing()); got != "[uplink.creds ("+creds+")]" {
		t.Errorf("before provisioning: Missing = %s", got)
	}
	if err := os.WriteFile(creds, []byte("creds"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := c.Missing(); len(got) != 0 {
		t.Errorf("after provisioning: Missing = %v", got)
	}
}
