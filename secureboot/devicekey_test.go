package secureboot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadDeviceKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.key")
	k1, err := LoadDeviceKey(path)
	if err != nil || len(k1) != DeviceKeySize {
		t.Fatalf("first load: %d bytes, %v", len(k1), err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	k2, err := LoadDeviceKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key: %v", err)
	}
	if bytes.Equal(k1, make([]byte, DeviceKeySize)) {
		t.Fatal("the key is all zero")
	}
	write(t, path, []byte("short"))
	if _, err := LoadDeviceKey(path); !errors.Is(err, ErrMalformed) {
		t.Errorf("a 5-byte key file: %v", err)
	}
}
