package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Config is palmd's configuration file (JSON). Zero values mean "use the
// default"; Default returns a Config with every default filled in.
type Config struct {
	// DeviceID names this kiosk to the cloud; it appears in NATS subjects.
	DeviceID string `json:"device_id"`
	// Hardware is "sim" or "linux".
	Hardware string `json:"hardware"`
	// Uplink says how to reach the cloud. With no URL, palmd starts an
	// embedded NATS server and the reference cloud in-process.
	Uplink Uplink `json:"uplink"`
	// Linux names every device path, pin and bus for --hw=linux.
	Linux Linux `json:"linux"`
}

// Uplink is the cloud connection.
type Uplink struct {
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
}

// Default returns the configuration palmd runs with when no file is given.
func Default() Config {
	return Config{
		DeviceID: "kiosk-dev-1",
		Hardware: "sim",
		Linux:    DefaultLinux(),
	}
}

// Load reads and validates the configuration file at path, on top of Default.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(b)
}

// Parse decodes a configuration document on top of Default and validates it.
// Unknown fields are an error, so a misspelt key is caught at start.
func Parse(b []byte) (Config, error) {
	c := Default()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("config: trailing data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports the first field that is wrong, by name.
func (c Config) Validate() error {
	if c.DeviceID == "" {
		return errors.New("config: device_id: must not be empty")
	}
	for _, r := range c.DeviceID {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("config: device_id: %q: only a-z, 0-9 and '-' are allowed (it is part of NATS subjects)", c.DeviceID)
		}
	}
	switch c.Hardware {
	case "sim":
	case "linux":
		if err := c.Linux.Validate(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("config: hardware: %q: want \"sim\" or \"linux\"", c.Hardware)
	}
	return nil
}
