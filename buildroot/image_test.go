package buildroot

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/palmd/palmd/firmware/config"
)

const (
	tmpfiles      = board + "/overlay/etc/tmpfiles.d/palmd.conf"
	factoryConfig = "/usr/share/palmd/config.json"
	exampleConfig = "../firmware/config/testdata/rpi.json"
)

// TestFactoryConfig: the image's config is one palmd accepts with the same
// function it runs at start (config.Load), leaves the kiosk not provisioned
// (palmd starts in that mode; no restart loop), and names credentials only
// on the data partition.
func TestFactoryConfig(t *testing.T) {
	c, err := config.Load(filepath.Join(board, "overlay", factoryConfig))
	if err != nil {
		t.Fatalf("the image's config is one palmd refuses (update it with firmware/config): %v", err)
	}
	if c.Hardware != "linux" {
		t.Errorf("hardware = %q, want linux on the kiosk image", c.Hardware)
	}
	if len(c.Missing()) == 0 {
		t.Error("the factory config needs nothing: a kiosk would leave the factory provisioned")
	}
	for name, p := range map[string]string{"creds": c.Uplink.Creds, "ca": c.Uplink.CA, "cert": c.Uplink.Cert, "key": c.Uplink.Key} {
		if !strings.HasPrefix(p, "/data/palmd/") {
			t.Errorf("uplink.%s = %q: credentials belong on the data partition", name, p)
		}
	}
	if _, err := os.Stat(filepath.Join(board, "overlay/etc/palmd")); err == nil {
		t.Error("overlay/etc/palmd exists: config and credentials live on the data partition")
	}
}

// devicePaths lists a config's device nodes by field.
func devicePaths(l config.Linux) map[string]string {
	return map[string]string{
		"camera.device": l.Camera.Device, "presence.bus": l.Presence.Bus,
		"card_reader.port": l.CardReader.Port, "display.framebuffer": l.Display.Framebuffer,
		"keypad.device": l.Keypad.Device,
	}
}

// TestDevicePathsAgree: the example config, the image's config and the
// unit's device list name the same devices.
func TestDevicePathsAgree(t *testing.T) {
	img, err := config.Load(filepath.Join(board, "overlay", factoryConfig))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := config.Load(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(img.Linux, ex.Linux) {
		t.Errorf("the image's linux section differs from %s:\n image   %+v\n example %+v", exampleConfig, img.Linux, ex.Linux)
	}
	allowed := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^DeviceAllow=(\S+) (\S+)$`).FindAllStringSubmatch(read(t, "package/palmd/palmd.service"), -1) {
		allowed[m[1]] = m[2]
	}
	for field, p := range devicePaths(img.Linux) {
		if !strings.Contains(allowed[p], "r") {
			t.Errorf("linux.%s = %s, which palmd.service does not allow (DeviceAllow)", field, p)
		}
	}
	for _, p := range []string{"/dev/gpiochip0", "/dev/gpiomem"} { // the pins of light and gate
		if allowed[p] != "rw" {
			t.Errorf("palmd.service does not allow %s rw for the GPIO pins", p)
		}
	}
	if img.Linux.Light.PWM != "" {
		t.Error("light.pwm is set: periph's BCM283x PWM maps /dev/mem, which the unit does not allow")
	}
}

// TestServiceSecurity runs systemd's own exposure analysis on the unit.
func TestServiceSecurity(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd)")
	}
	out, err := exec.Command(sa, "security", "--offline=true", "--no-pager", "package/palmd/palmd.service").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for palmd\.service: (\d+\.\d)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	level, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("systemd-analyze security: exposure %.1f", level)
	if level > 2.0 {
		t.Errorf("exposure %.1f, want 2.0 or lower:\n%s", level, out)
	}
	for _, want := range []string{"User=palmd", "DevicePolicy=closed", "SystemCallFilter=@system-service", "ProtectProc=invisible",
		"ProtectKernelTunables=yes", "CapabilityBoundingSet=\n", "RestartPreventExitStatus=2"} {
		if !strings.Contains(read(t, "package/palmd/palmd.service"), "\n"+want) {
			t.Errorf("palmd.service lacks %q", want)
		}
	}
}

// TestUnitsVerify runs systemd-analyze verify on the image's units, in a
// root that holds systemd's own units and stand-ins for the binaries.
func TestUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd)")
	}
	const systemUnits = "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(systemUnits, "sysinit.target")); err != nil {
		t.Skipf("no systemd units in %s to verify against", systemUnits)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", systemUnits, filepath.Join(root, "usr/lib/systemd")+"/").CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	units := map[string]string{"palmd.service": "package/palmd/palmd.service"}
	for _, name := range []string{"data.mount", "boot.mount", "palmd-reboot.path", "palmd-reboot.service"} {
		units[name] = filepath.Join(board, "overlay/etc/systemd/system", name)
	}
	for name, src := range units {
		writeFileT(t, filepath.Join(root, "usr/lib/systemd/system", name), read(t, src), 0o644)
	}
	for _, exe := range []string{"usr/bin/palmd", "usr/lib/palmd/palmkiosk-reboot.sh"} {
		writeFileT(t, filepath.Join(root, exe), "#!/bin/sh\n", 0o755)
	}
	for name := range units {
		out, err := exec.Command(sa, "verify", "--root="+root, "--man=no", name).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
}

func writeFileT(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// TestShellcheck runs shellcheck on every script of the tree.
func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed (Debian package shellcheck)")
	}
	files := scripts(t)
	out, err := exec.Command(sc, append([]string{"--shell=sh", "--severity=style"}, files...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck %v: %v\n%s", files, err, out)
	}
}

// TestKconfig parses the tree's Config.in with kconfiglib (Debian package
// python3-kconfiglib), the way Buildroot's menuconfig reads it, and checks
// the defconfig names only symbols that exist: the tree's own, or
// Buildroot's (BR2_ symbols this tree does not define are Buildroot's and
// are checked on a real build).
func TestKconfig(t *testing.T) {
	// Debian's python3, which has the package, may not be first on PATH.
	py := ""
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(cand); err == nil && exec.Command(p, "-c", "import kconfiglib").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("kconfiglib not installed (Debian package python3-kconfiglib)")
	}
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import sys, kconfiglib
kc = kconfiglib.Kconfig("Config.in", warn_to_stderr=False)
for w in kc.warnings:
    # Symbols of Buildroot proper are undefined in the external tree alone.
    if "undefined symbol" in w and "BR2_" in w:
        continue
    print("warning:", w)
for name in sorted(kc.syms):
    s = kc.syms[name]
    if s.nodes:
        print("defined:", name, kconfiglib.TYPE_TO_STR[s.type])
`
	cmd := exec.Command(py, "-c", script)
	cmd.Env = append(os.Environ(), "BR2_EXTERNAL_PALMD_PATH="+abs, "srctree="+abs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kconfiglib: %v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("warning:")) {
		t.Errorf("kconfiglib warnings:\n%s", out)
	}
	if !bytes.Contains(out, []byte("defined: BR2_PACKAGE_PALMD bool")) {
		t.Errorf("BR2_PACKAGE_PALMD is not a bool symbol:\n%s", out)
	}
	// The RAUC options palmd selects are the ones the defconfig sets.
	def := read(t, "configs/palmkiosk_rpi4_defconfig")
	for _, sym := range []string{"BR2_PACKAGE_RAUC", "BR2_PACKAGE_RAUC_DBUS", "BR2_PACKAGE_RAUC_JSON", "BR2_PACKAGE_HOST_RAUC"} {
		if !strings.Contains(def, "\n"+sym+"=y\n") {
			t.Errorf("defconfig does not set %s=y", sym)
		}
	}
}

type raucKeys struct{ cert, key string }

// writeRAUCKeys makes a self-signed ECDSA certificate and key, the kind
// RAUC signs bundles with.
func writeRAUCKeys(t *testing.T) raucKeys {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "palmkiosk test release"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := raucKeys{cert: filepath.Join(dir, "rauc.cert.pem"), key: filepath.Join(dir, "rauc.key.pem")}
	writeFileT(t, r.cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	writeFileT(t, r.key, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), 0o600)
	return r
}

// tryboot runs RAUC's custom boot loader backend against a boot partition
// in a directory, with the boot id and the firmware's tryboot flag faked.
type tryboot struct {
	t                  *testing.T
	boot, bootID, flag string
	boots              int
}

func newTryboot(t *testing.T) *tryboot {
	dir := t.TempDir()
	tb := &tryboot{t: t, boot: filepath.Join(dir, "boot"), bootID: filepath.Join(dir, "boot_id"), flag: filepath.Join(dir, "tryboot")}
	for _, f := range []string{"cmdline-a.txt", "cmdline-b.txt"} {
		writeFileT(t, filepath.Join(tb.boot, f), read(t, filepath.Join(board, f)), 0o644)
	}
	writeFileT(t, filepath.Join(tb.boot, "cmdline.txt"), read(t, filepath.Join(board, "cmdline-a.txt")), 0o644)
	writeFileT(t, filepath.Join(tb.boot, "cmdline-trial.txt"), read(t, filepath.Join(board, "cmdline-a.txt")), 0o644)
	tb.reboot(false)
	return tb
}

// reboot gives the system a new boot id; tryboot says whether the firmware
// booted tryboot.txt (the device tree's chosen/bootloader/tryboot, a
// big-endian 32-bit cell).
func (tb *tryboot) reboot(tryboot bool) {
	tb.boots++
	writeFileT(tb.t, tb.bootID, "boot-"+strconv.Itoa(tb.boots)+"\n", 0o644)
	cell := []byte{0, 0, 0, 0}
	if tryboot {
		cell[3] = 1
	}
	writeFileT(tb.t, tb.flag, string(cell), 0o644)
}

func (tb *tryboot) run(args ...string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(board, "overlay/usr/lib/rauc/palmkiosk-tryboot.sh"))
	if err != nil {
		tb.t.Fatal(err)
	}
	cmd := exec.Command(abs, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PALMKIOSK_BOOT=" + tb.boot,
		"PALMKIOSK_BOOT_ID=" + tb.bootID, "PALMKIOSK_TRYBOOT_FLAG=" + tb.flag}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (tb *tryboot) want(want string, args ...string) {
	tb.t.Helper()
	got, err := tb.run(args...)
	if err != nil || got != want {
		tb.t.Errorf("%v = %q, %v; want %q", args, got, err, want)
	}
}

func (tb *tryboot) committed() string {
	tb.t.Helper()
	return regexp.MustCompile(`rauc\.slot=(\w)`).FindStringSubmatch(read(tb.t, filepath.Join(tb.boot, "cmdline.txt")))[1]
}

func TestTrybootBackend(t *testing.T) {
	t.Run("install, trial boot, mark good", func(t *testing.T) {
		tb := newTryboot(t)
		tb.want("A", "get-primary")
		tb.want("good", "get-state", "A")
		tb.want("bad", "get-state", "B")
		// rauc install into B: B marked bad while written, then primary.
		tb.want("", "set-state", "B", "bad")
		tb.want("", "set-primary", "B")
		tb.want("B", "get-primary") // pending, not yet rebooted
		if tb.committed() != "A" {
			t.Fatal("set-primary changed the committed slot")
		}
		if read(t, filepath.Join(tb.boot, "cmdline-trial.txt")) != read(t, filepath.Join(board, "cmdline-b.txt")) {
			t.Fatal("tryboot would not boot slot B")
		}
		tb.reboot(true) // reboot '0 tryboot'
		tb.want("B", "get-primary")
		tb.want("", "set-state", "B", "good") // rauc status mark-good booted
		if tb.committed() != "B" {
			t.Fatal("mark-good did not commit B")
		}
		tb.reboot(false)
		tb.want("B", "get-primary")
		tb.want("good", "get-state", "B")
	})
	t.Run("trial that never marks good falls back", func(t *testing.T) {
		tb := newTryboot(t)
		tb.want("", "set-primary", "B")
		tb.reboot(true)
		tb.reboot(false) // the trial crashed or hung; the watchdog reset boots config.txt
		tb.want("A", "get-primary")
		if tb.committed() != "A" {
			t.Fatal("a failed trial moved the committed slot")
		}
	})
	t.Run("set-primary of the committed slot cancels a trial", func(t *testing.T) {
		tb := newTryboot(t)
		tb.want("", "set-primary", "B")
		tb.want("", "set-primary", "A")
		tb.want("A", "get-primary")
	})
	t.Run("bad input", func(t *testing.T) {
		tb := newTryboot(t)
		for _, args := range [][]string{{"set-primary", "C"}, {"get-state"}, {"set-state", "A", "maybe"}, {"reboot"}, {}} {
			if out, err := tb.run(args...); err == nil {
				t.Errorf("%v succeeded: %s", args, out)
			}
		}
	})
}

// TestRAUCSystemConf: RAUC's slots are genimage's partitions, its bootnames
// the ones the command lines pass (rauc.slot=), its backend and keyring
// where the image puts them.
func TestRAUCSystemConf(t *testing.T) {
	conf := read(t, filepath.Join(board, "overlay/etc/rauc/system.conf"))
	gi := read(t, filepath.Join(board, "genimage.cfg"))
	for i, slot := range []string{"a", "b"} {
		sec := regexp.MustCompile(`(?s)\[slot\.rootfs\.` + strconv.Itoa(i) + `\]\n(.*?)(\n\[|$)`).FindStringSubmatch(conf)
		if sec == nil {
			t.Fatalf("system.conf has no [slot.rootfs.%d]", i)
		}
		if !strings.Contains(sec[1], "device=/dev/disk/by-partlabel/rootfs-"+slot+"\n") || !strings.Contains(gi, "partition rootfs-"+slot+" {") {
			t.Errorf("slot.rootfs.%d is not genimage's rootfs-%s:\n%s", i, slot, sec[1])
		}
		boot := strings.ToUpper(slot)
		if !strings.Contains(sec[1], "bootname="+boot+"\n") {
			t.Errorf("slot.rootfs.%d: bootname is not %s", i, boot)
		}
		if !strings.Contains(read(t, filepath.Join(board, "cmdline-"+slot+".txt")), " rauc.slot="+boot+"\n") {
			t.Errorf("cmdline-%s.txt does not tell RAUC it is slot %s", slot, boot)
		}
	}
	m := regexp.MustCompile(`(?m)^bootloader-custom-backend=(\S+)$`).FindStringSubmatch(conf)
	if m == nil || !strings.Contains(conf, "\nbootloader=custom\n") {
		t.Fatal("system.conf does not use the custom tryboot backend")
	}
	if fi, err := os.Stat(filepath.Join(board, "overlay", m[1])); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("backend %s: %v (must be in the overlay and executable)", m[1], err)
	}
	if !strings.Contains(conf, "\npath=/etc/rauc/keyring.pem\n") || !strings.Contains(read(t, filepath.Join(board, "post-build.sh")), `"$TARGET_DIR/etc/rauc/keyring.pem"`) {
		t.Error("RAUC's keyring is not the one post-build.sh installs")
	}
	if !strings.Contains(conf, "\ndata-directory=/data/rauc\n") || !strings.Contains(read(t, tmpfiles), "d /data/rauc ") {
		t.Error("RAUC's data directory is not on the data partition, made by tmpfiles")
	}
}
