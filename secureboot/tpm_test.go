package secureboot

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// startSWTPM runs swtpm (Debian package swtpm), a software TPM 2.0 built on
// libtpms, with its state in dir, and connects to it.
func startSWTPM(t *testing.T, dir string) transport.TPMCloser {
	t.Helper()
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		t.Skip("swtpm not installed (apt-get install swtpm)")
	}
	// swtpm serves a socket made here (fd 3), so the connection is queued
	// at once and nothing waits for swtpm to come up.
	sock := filepath.Join(dir, "tpm.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "socket", "--tpm2",
		"--tpmstate", "dir="+dir,
		"--server", "type=unixio,fd=3",
		"--flags", "not-need-init,startup-clear")
	cmd.ExtraFiles = []*os.File{lf}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	lf.Close()
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("connecting to swtpm: %v", err)
	}
	tpm := transport.FromReadWriteCloser(conn)
	t.Cleanup(func() { tpm.Close() })
	return tpm
}

func TestTPMCounter(t *testing.T) {
	dir := t.TempDir()
	tpm := startSWTPM(t, dir)
	c := &TPMCounter{TPM: tpm, Index: DefaultTPMCounterIndex}
	if v, err := c.Read(); err != nil || v != 0 {
		t.Fatalf("undefined counter: Read = %d, %v", v, err)
	}
	first, err := c.Increment()
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 3; i++ {
		v, err := c.Increment()
		if err != nil || v != first+i {
			t.Fatalf("Increment = %d, %v; want %d", v, err, first+i)
		}
	}
	if v, err := c.Read(); err != nil || v != first+3 {
		t.Fatalf("Read = %d, %v", v, err)
	}

	// Deleting the index and defining it again does not reset it.
	if _, err := (tpm2.NVUndefineSpace{AuthHandle: tpm2.TPMRHOwner, NVIndex: tpm2.NamedHandle{Handle: c.Index, Name: name(t, c)}}).Execute(tpm); err != nil {
		t.Fatal(err)
	}
	again, err := c.Increment()
	if err != nil {
		t.Fatal(err)
	}
	if again < first+3 {
		t.Errorf("after undefine and define: %d, below the old value %d", again, first+3)
	}

	// A sealed file over the TPM counter refuses an older copy.
	f, err := NewSealedFile(filepath.Join(dir, "state"), "state", testDeviceKey(1), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save([]byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save([]byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Load(); err != nil || string(got) != `{"v":2}` {
		t.Fatalf("Load = %q, %v", got, err)
	}
	write(t, f.Path, old)
	if _, err := f.Load(); !errors.Is(err, ErrTampered) {
		t.Errorf("older copy over a TPM counter: Load = %v, want ErrTampered", err)
	}
}

func name(t *testing.T, c *TPMCounter) tpm2.TPM2BName {
	t.Helper()
	rsp, err := c.public()
	if err != nil {
		t.Fatal(err)
	}
	return rsp.NVName
}
