package secureboot_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/palmd/palmd/secureboot"
)

func Example() {
	// The release key (kept offline; fwsign keygen makes one).
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	image := strings.NewReader("root filesystem image")
	var bundle bytes.Buffer
	_, err = secureboot.SignBundle(&bundle, priv, secureboot.Manifest{
		Product: "palmkiosk", Version: 42, Release: "1.4.2", Created: time.Now(),
	}, image)
	if err != nil {
		log.Fatal(err)
	}

	// The device: two slots and a state file.
	dir, err := os.MkdirTemp("", "secureboot-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	slots := secureboot.FileSlots{secureboot.SlotA: filepath.Join(dir, "a"), secureboot.SlotB: filepath.Join(dir, "b")}
	for _, p := range slots {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			log.Fatal(err)
		}
	}
	u := secureboot.NewFileUpdater(secureboot.FileStore{Path: filepath.Join(dir, "slots.json")}, slots,
		[]ed25519.PublicKey{pub}, "palmkiosk", nil)

	signed := bytes.Clone(bundle.Bytes())
	m, err := u.Install(context.Background(), &bundle)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("installed", m.Release)

	slot, _ := u.NextBoot() // the reboot into the trial slot
	fmt.Println("trial boot of slot", slot)
	if err := u.CommitSlot(slot); err != nil { // palmd is healthy
		log.Fatal(err)
	}
	st, _ := u.State()
	fmt.Println("active", st.Active, "minimum version", st.MinFirmware)

	// A bundle with one byte changed is refused.
	signed[20] ^= 1
	_, err = u.Install(context.Background(), bytes.NewReader(signed))
	fmt.Println(errors.Is(err, secureboot.ErrBadSignature))
	// Output:
	// installed 1.4.2
	// trial boot of slot b
	// active b minimum version 42
	// true
}

func ExamplePolicy_VerifyConfig() {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	var signed bytes.Buffer
	doc := []byte(`{"device_id":"kiosk-7","hardware":"linux"}`)
	if _, err := secureboot.SignConfig(&signed, priv, secureboot.Manifest{
		Product: "palmkiosk", Version: 3, Created: time.Now(),
	}, doc); err != nil {
		log.Fatal(err)
	}
	p := secureboot.Policy{Keys: []ed25519.PublicKey{pub}, Product: "palmkiosk", MinVersion: 4}
	_, _, err = p.VerifyConfig(bytes.NewReader(signed.Bytes()))
	fmt.Println(err)

	p.MinVersion = 3
	m, payload, err := p.VerifyConfig(bytes.NewReader(signed.Bytes()))
	fmt.Println(m.Version, string(payload), err)
	// Output:
	// secureboot: rollback: version 3 is older than the minimum 4
	// 3 {"device_id":"kiosk-7","hardware":"linux"} <nil>
}
