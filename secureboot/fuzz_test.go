package secureboot

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fuzzSeeds returns real envelopes and near misses.
func fuzzSeeds(t testing.TB) [][]byte {
	bundle := signBundle(t, testKey(1), 3, testImage(64))
	config := signConfig(t, testKey(1), 2, `{"device_id":"kiosk-1","hardware":"sim"}`)
	return [][]byte{
		bundle,
		config,
		bundle[:len(bundle)-1],
		append(bytes.Clone(bundle), 0),
		signBundle(t, testKey(2), 3, testImage(64)),
		[]byte(Magic),
		nil,
	}
}

// splitReader delivers data in two reads split at cut, like a stream
// arriving in chunks.
func splitReader(data []byte, cut byte) io.Reader {
	i := 0
	if len(data) > 0 {
		i = int(cut) % len(data)
	}
	return io.MultiReader(bytes.NewReader(data[:i]), bytes.NewReader(data[i:]))
}

func FuzzVerifyBundle(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, byte(13))
	}
	p := testPolicy(0)
	f.Fuzz(func(t *testing.T, data []byte, cut byte) {
		m, err := p.VerifyBundle(bytes.NewReader(data))
		m2, err2 := p.VerifyBundle(splitReader(data, cut))
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || !reflect.DeepEqual(m, m2) {
			t.Fatalf("whole: %+v, %v; split: %+v, %v", m, err, m2, err2)
		}
		if err != nil {
			return
		}
		if verr := m.validate(); verr != nil || m.Kind != KindFirmware {
			t.Fatalf("accepted an invalid manifest %+v: %v", m, verr)
		}
		sum := sha256.Sum256(data[int64(len(data))-m.Size:])
		if hex.EncodeToString(sum[:]) != m.SHA256 {
			t.Fatal("accepted a payload whose digest differs from the manifest")
		}
	})
}

func FuzzVerifyConfig(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, byte(40))
	}
	p := testPolicy(0)
	f.Fuzz(func(t *testing.T, data []byte, cut byte) {
		m, payload, err := p.VerifyConfig(bytes.NewReader(data))
		_, payload2, err2 := p.VerifyConfig(splitReader(data, cut))
		if (err == nil) != (err2 == nil) || !bytes.Equal(payload, payload2) {
			t.Fatalf("whole: %v; split: %v", err, err2)
		}
		if err != nil {
			return
		}
		sum := sha256.Sum256(payload)
		if m.Kind != KindConfig || int64(len(payload)) != m.Size || hex.EncodeToString(sum[:]) != m.SHA256 {
			t.Fatalf("accepted %+v with a payload of %d bytes", m, len(payload))
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(rawManifest(testImage(10), "")))
	f.Add([]byte(`{"kind":"config","product":"p","version":1,"size":2,"sha256":"00","created":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"kind":"firmware"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			return
		}
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := parseManifest(js)
		if err != nil || !m2.Created.Equal(m.Created) {
			t.Fatalf("re-parse of %s: %+v, %v", js, m2, err)
		}
		m2.Created = m.Created
		if m2 != m {
			t.Fatalf("round trip changed %+v to %+v", m, m2)
		}
	})
}

func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"active":"a","trial":"b","trial_boots":1,"min_firmware":3,"min_config":1,"slots":{"b":{"version":4,"sha256":"00","failed":true}}}`))
	f.Add([]byte(`{"active":"b"}`))
	f.Add([]byte(`{"active":"a","trial_boots":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseState(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			return
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ParseState(js)
		if err != nil || !reflect.DeepEqual(s, s2) && !(len(s.Slots) == 0 && len(s2.Slots) == 0) {
			t.Fatalf("round trip of %s: %+v, %v", js, s2, err)
		}
	})
}

func FuzzParsePublicKeys(f *testing.F) {
	pub, _ := MarshalPublicKey(testKey(1).Public().(ed25519.PublicKey))
	f.Add(pub)
	f.Add(append(bytes.Clone(pub), pub...))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParsePublicKeys(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if len(k) != 32 {
				t.Fatalf("key of %d bytes", len(k))
			}
		}
	})
}

func FuzzBootedSlot(f *testing.F) {
	f.Add([]byte("root=PARTUUID=5e0c7d1a ro rootwait palmd.slot=a\n"))
	f.Add([]byte("palmd.slot=b palmd.slot=a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := BootedSlot(data)
		if err != nil {
			return
		}
		if !s.valid() || !bytes.Contains(data, []byte(CmdlineParam+"="+string(s))) {
			t.Fatalf("BootedSlot(%q) = %q", data, s)
		}
	})
}

// FuzzSealedFile feeds arbitrary bytes to a sealed file's parser (the file
// is on the data partition, outside palmd's control): anything but the
// document sealed under the device key must be ErrTampered, never a panic.
func FuzzSealedFile(f *testing.F) {
	dir := f.TempDir()
	key := bytes.Repeat([]byte{1}, DeviceKeySize)
	sf, err := NewSealedFile(filepath.Join(dir, "state"), "state", key, &FileCounter{Path: filepath.Join(dir, "counter")})
	if err != nil {
		f.Fatal(err)
	}
	const sealedDoc = `{"active":"a","trial_boots":0,"min_firmware":3,"min_config":0}`
	if err := sf.Save([]byte(sealedDoc)); err != nil {
		f.Fatal(err)
	}
	goodCounter, err := sf.Counter.Read()
	if err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(sf.Path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("palmd-sealed-v1\n1\n00\n{}"))
	f.Add([]byte(`{"active":"a"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		counter, doc, err := sf.open(b)
		if err != nil {
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("open: %v, not ErrTampered", err)
			}
			return
		}
		// Only the sealed document at its counter authenticates (the MAC's
		// hex may change case).
		if string(doc) != sealedDoc || counter != goodCounter {
			t.Fatalf("accepted %q (counter %d)", b, counter)
		}
	})
}
