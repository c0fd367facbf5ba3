package secureboot

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadDeviceKey returns the device key in the file at path, making one
// (32 random bytes, mode 0600) if there is none. A key file on the data
// partition protects sealed files against forgery only from someone who
// cannot read it; the counter catches an older copy either way. Boards with
// a TPM should seal the key to it instead (not done yet).
func LoadDeviceKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) != DeviceKeySize {
			return nil, fmt.Errorf("%w: device key %s is %d bytes, want %d", ErrMalformed, path, len(b), DeviceKeySize)
		}
		return b, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("secureboot: device key: %w", err)
	}
	key := make([]byte, DeviceKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secureboot: device key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secureboot: device key: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("secureboot: device key: %w", err)
	}
	return key, nil
}
