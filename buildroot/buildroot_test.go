package buildroot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/secureboot"
)

const (
	external = "PALMD"
	board    = "board/palmkiosk"
	repoRoot = ".." // PALMD_SITE: the tree sits in the repository's buildroot/
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// resolve turns "$(BR2_EXTERNAL_PALMD_PATH)/x" or "$BR2_EXTERNAL_PALMD_PATH/x"
// into a path relative to this directory.
func resolve(p string) string {
	for _, v := range []string{"$(BR2_EXTERNAL_" + external + "_PATH)", "$BR2_EXTERNAL_" + external + "_PATH"} {
		if rest, ok := strings.CutPrefix(p, v); ok {
			return "." + rest
		}
	}
	return p
}

// makeVars reads the simple variable assignments of a .mk file (NAME = v,
// NAME += v, with backslash continuations), skipping define blocks.
func makeVars(t *testing.T, path string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	assign := regexp.MustCompile(`^([A-Z0-9_]+)\s*(\+=|\?=|:=|=)\s*(.*)$`)
	sc := bufio.NewScanner(strings.NewReader(read(t, path)))
	inDefine := false
	var line string
	for sc.Scan() {
		line += sc.Text()
		if strings.HasSuffix(line, `\`) {
			line = strings.TrimSuffix(line, `\`) + " "
			continue
		}
		l := strings.TrimSpace(line)
		line = ""
		switch {
		case strings.HasPrefix(l, "define "):
			inDefine = true
		case l == "endef":
			inDefine = false
		case inDefine || strings.HasPrefix(l, "#"):
		default:
			if m := assign.FindStringSubmatch(l); m != nil {
				if m[2] == "+=" {
					vars[m[1]] = strings.TrimSpace(vars[m[1]] + " " + m[3])
				} else {
					vars[m[1]] = m[3]
				}
			}
		}
	}
	return vars
}

func TestExternalDesc(t *testing.T) {
	desc := read(t, "external.desc")
	if !regexp.MustCompile(`(?m)^name: ` + external + `$`).MatchString(desc) {
		t.Errorf("external.desc does not say name: %s", external)
	}
	if !regexp.MustCompile(`(?m)^desc: \S`).MatchString(desc) {
		t.Error("external.desc has no desc")
	}
	if mk := read(t, "external.mk"); !strings.Contains(mk, "$(BR2_EXTERNAL_"+external+"_PATH)/package/*/*.mk") {
		t.Errorf("external.mk does not include package/*/*.mk:\n%s", mk)
	}
}

func TestPackages(t *testing.T) {
	sourced := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^source "([^"]+)"`).FindAllStringSubmatch(read(t, "Config.in"), -1) {
		p := resolve(m[1])
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Config.in sources %s: %v", m[1], err)
		}
		sourced[filepath.Clean(p)] = true
	}
	dirs, err := os.ReadDir("package")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no packages")
	}
	assign := regexp.MustCompile(`(?m)^([A-Z0-9_]+)\s*(?:\+=|\?=|:=|=)`)
	for _, d := range dirs {
		name := d.Name()
		upper := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		cfg := filepath.Join("package", name, "Config.in")
		if !sourced[cfg] {
			t.Errorf("package %s: Config.in does not source %s", name, cfg)
		}
		if !strings.Contains(read(t, cfg), "config BR2_PACKAGE_"+upper+"\n") {
			t.Errorf("%s does not define BR2_PACKAGE_%s", cfg, upper)
		}
		mkPath := filepath.Join("package", name, name+".mk")
		mk := read(t, mkPath)
		for _, m := range assign.FindAllStringSubmatch(mk, -1) {
			if !strings.HasPrefix(m[1], upper+"_") && !strings.HasPrefix(m[1], "HOST_"+upper+"_") {
				t.Errorf("%s sets %s, outside the %s_ namespace", mkPath, m[1], upper)
			}
		}
		if !regexp.MustCompile(`(?m)^\$\(eval \$\((golang|generic|host-golang)-package\)\)$`).MatchString(mk) {
			t.Errorf("%s has no $(eval $(...-package))", mkPath)
		}
		for _, m := range regexp.MustCompile(`\$\(`+upper+`_PKGDIR\)/?([\w.-]+)`).FindAllStringSubmatch(mk, -1) {
			if _, err := os.Stat(filepath.Join("package", name, m[1])); err != nil {
				t.Errorf("%s installs %s: %v", mkPath, m[1], err)
			}
		}
	}
}

func TestPalmdPackage(t *testing.T) {
	vars := makeVars(t, "package/palmd/palmd.mk")
	gomod := read(t, filepath.Join(repoRoot, "go.mod"))
	if want := "module " + vars["PALMD_GOMOD"] + "\n"; !strings.HasPrefix(gomod, want) {
		t.Errorf("PALMD_GOMOD = %q, but go.mod does not start with %q", vars["PALMD_GOMOD"], want)
	}
	if vars["PALMD_SITE_METHOD"] != "local" || resolve(vars["PALMD_SITE"]) != "./.." {
		t.Errorf("PALMD_SITE = %q (%s), want the repository, locally", vars["PALMD_SITE"], vars["PALMD_SITE_METHOD"])
	}
	for _, v := range []string{"PALMD_BUILD_TARGETS", "HOST_PALMD_BUILD_TARGETS"} {
		targets := strings.Fields(vars[v])
		if len(targets) == 0 {
			t.Errorf("%s is empty", v)
		}
		for _, target := range targets {
			if !isMainPackage(t, filepath.Join(repoRoot, target)) {
				t.Errorf("%s: %s is not a main package in this repository", v, target)
			}
		}
	}
	if !strings.Contains(vars["PALMD_LDFLAGS"], "-X main.version=") {
		t.Errorf("PALMD_LDFLAGS = %q, want -X main.version", vars["PALMD_LDFLAGS"])
	}
	for _, dep := range []string{"opencv4", "host-palmd"} {
		if !slices.Contains(strings.Fields(vars["PALMD_DEPENDENCIES"]), dep) {
			t.Errorf("PALMD_DEPENDENCIES = %q, want %s", vars["PALMD_DEPENDENCIES"], dep)
		}
	}
	if !strings.Contains(read(t, "package/palmd/Config.in"), "select BR2_PACKAGE_OPENCV4\n") {
		t.Error("Config.in does not select opencv4")
	}
}

// isMainPackage reports whether dir holds a non-test Go file of package main.
func isMainPackage(t *testing.T, dir string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		if regexp.MustCompile(`(?m)^package main$`).MatchString(read(t, f)) {
			return true
		}
	}
	return false
}

func TestService(t *testing.T) {
	svc := read(t, "package/palmd/palmd.service")
	for _, want := range []string{"Type=notify", "WatchdogSec=", "LimitCORE=0", "LimitMEMLOCK=", "MemorySwapMax=0", "ProtectSystem=strict", "WantedBy=multi-user.target"} {
		if !strings.Contains(svc, "\n"+want) {
			t.Errorf("palmd.service lacks %s", want)
		}
	}
	m := regexp.MustCompile(`(?m)^ExecStart=/usr/bin/(\S+)(.*)$`).FindStringSubmatch(svc)
	if m == nil {
		t.Fatal("palmd.service has no ExecStart=/usr/bin/...")
	}
	targets := strings.Fields(makeVars(t, "package/palmd/palmd.mk")["PALMD_BUILD_TARGETS"])
	if !slices.ContainsFunc(targets, func(s string) bool { return filepath.Base(s) == m[1] }) {
		t.Errorf("ExecStart runs %s, which PALMD_BUILD_TARGETS %v does not build", m[1], targets)
	}
	cfg := regexp.MustCompile(`-config (\S+)`).FindStringSubmatch(m[2])
	if cfg == nil {
		t.Fatal("ExecStart passes no -config")
	}
	if !strings.HasPrefix(cfg[1], "/data/palmd/") {
		t.Errorf("ExecStart's config %s is not on the data partition", cfg[1])
	}
	// tmpfiles.d copies the factory config there on the first boot.
	copyLine := regexp.MustCompile(`(?m)^C ` + regexp.QuoteMeta(cfg[1]) + ` - - - - (\S+)$`).FindStringSubmatch(read(t, tmpfiles))
	if copyLine == nil {
		t.Fatalf("%s has no C line that puts the factory config at %s", tmpfiles, cfg[1])
	}
	if copyLine[1] != factoryConfig {
		t.Errorf("tmpfiles copies %s, want %s", copyLine[1], factoryConfig)
	}
}

func TestDefconfig(t *testing.T) {
	defconfig := read(t, "configs/palmkiosk_rpi4_defconfig")
	seen := map[string]bool{}
	line := regexp.MustCompile(`^(BR2_\w+)=(.*)$`)
	for _, l := range strings.Split(defconfig, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if seen[m[1]] {
			t.Errorf("%s is set twice", m[1])
		}
		seen[m[1]] = true
		for _, p := range regexp.MustCompile(`\$\(BR2_EXTERNAL_`+external+`_PATH\)[^" ]*`).FindAllString(m[2], -1) {
			if _, err := os.Stat(resolve(p)); err != nil {
				t.Errorf("%s names %s: %v", m[1], p, err)
			}
		}
	}
	for _, want := range []string{"BR2_aarch64", "BR2_INIT_SYSTEMD", "BR2_PACKAGE_OPENCV4", "BR2_PACKAGE_PALMD",
		"BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", "BR2_ROOTFS_OVERLAY", "BR2_ROOTFS_POST_BUILD_SCRIPT",
		"BR2_ROOTFS_POST_IMAGE_SCRIPT", "BR2_PACKAGE_HOST_GENIMAGE", "BR2_TARGET_ROOTFS_EXT2"} {
		if !seen[want] {
			t.Errorf("defconfig does not set %s", want)
		}
	}
	frag := read(t, filepath.Join(board, "linux.fragment"))
	for _, want := range []string{"CONFIG_VIDEO_DEV=y", "CONFIG_GPIO_CDEV=y", "CONFIG_PWM=y", "CONFIG_I2C_CHARDEV=y", "CONFIG_FB=y", "CONFIG_INPUT_EVDEV=y", "# CONFIG_SWAP is not set"} {
		if !strings.Contains(frag, want+"\n") {
			t.Errorf("linux.fragment lacks %s", want)
		}
	}
}

// The partition table and the kernel command lines must agree on which
// partition is which slot.
func TestSlotsAgree(t *testing.T) {
	gi := read(t, filepath.Join(board, "genimage.cfg"))
	for _, slot := range []string{"a", "b"} {
		part := regexp.MustCompile(`partition rootfs-` + slot + ` \{[^}]*partition-uuid = "([0-9a-f-]+)"`).FindStringSubmatch(gi)
		if part == nil {
			t.Fatalf("genimage.cfg has no partition rootfs-%s with a partition-uuid", slot)
		}
		cmdline := read(t, filepath.Join(board, "cmdline-"+slot+".txt"))
		if !strings.Contains(cmdline, "root=PARTUUID="+part[1]+" ") {
			t.Errorf("cmdline-%s.txt does not boot rootfs-%s (PARTUUID %s): %s", slot, slot, part[1], cmdline)
		}
		if got, err := secureboot.BootedSlot([]byte(cmdline)); err != nil || got != secureboot.Slot(slot) {
			t.Errorf("cmdline-%s.txt tells palmd it runs from slot %q (%v)", slot, got, err)
		}
		if strings.Count(cmdline, "\n") != 1 {
			t.Errorf("cmdline-%s.txt must be one line", slot)
		}
	}
	// Every boot file post-image.sh puts in rpi-firmware/ is on the boot partition.
	for _, f := range []string{"config.txt", "tryboot.txt", "cmdline.txt", "cmdline-trial.txt", "cmdline-a.txt", "cmdline-b.txt"} {
		if !strings.Contains(gi, `"rpi-firmware/`+f+`"`) {
			t.Errorf("genimage.cfg does not put %s on the boot partition", f)
		}
	}
}

func scripts(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sh") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no scripts found")
	}
	return out
}

func TestScripts(t *testing.T) {
	for _, p := range scripts(t) {
		t.Run(p, func(t *testing.T) {
			s := read(t, p)
			if !strings.HasPrefix(s, "#!/bin/sh\n") {
				t.Error("does not start with #!/bin/sh")
			}
			if !regexp.MustCompile(`(?m)^set -eu$`).MatchString(s) {
				t.Error("does not set -eu")
			}
			if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("not executable: %v", err)
			}
			for _, sh := range []string{"bash", "sh"} {
				path, err := exec.LookPath(sh)
				if err != nil {
					t.Logf("no %s here; not checked with it", sh)
					continue
				}
				if out, err := exec.Command(path, "-n", p).CombinedOutput(); err != nil {
					t.Errorf("%s -n: %v\n%s", sh, err, out)
				}
			}
		})
	}
}

// hooks builds fwsign into a fake HOST_DIR and makes a release key pair.
type hooks struct {
	hostDir, key, pub string
}

func newHooks(t *testing.T) hooks {
	t.Helper()
	if testing.Short() {
		t.Skip("builds fwsign; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build fwsign")
	}
	h := hooks{hostDir: t.TempDir()}
	bin := filepath.Join(h.hostDir, "bin", "fwsign")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/palmd/palmd/cmd/fwsign").CombinedOutput(); err != nil {
		t.Fatalf("building fwsign: %v\n%s", err, out)
	}
	keys := t.TempDir()
	if out, err := exec.Command(bin, "keygen", "-out", keys).CombinedOutput(); err != nil {
		t.Fatalf("fwsign keygen: %v\n%s", err, out)
	}
	h.key, h.pub = filepath.Join(keys, "fwsign.key"), filepath.Join(keys, "fwsign.pub")
	return h
}

// runScript runs a board script the way Buildroot does: from Buildroot's top
// directory (here a fake one with a genimage.sh that records its arguments),
// with the directory as first argument, and only the given environment.
func runScript(t *testing.T, script, topDir string, env map[string]string, arg string) ([]byte, error) {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(board, script))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(context.Background(), abs, arg)
	cmd.Dir = topDir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd.CombinedOutput()
}

func fakeTopDir(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	stub := filepath.Join(top, "support/scripts/genimage.sh")
	if err := os.MkdirAll(filepath.Dir(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nset -eu\necho \"$@\" > genimage.args\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return top
}

// withRAUC puts the host's rauc (Debian package rauc, with squashfs-tools)
// into the fake HOST_DIR, as Buildroot's host-rauc would be.
func (h hooks) withRAUC(t *testing.T) {
	t.Helper()
	rauc, err := exec.LookPath("rauc")
	if err != nil {
		t.Skip("rauc not installed (Debian packages rauc and squashfs-tools)")
	}
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("mksquashfs not installed (Debian package squashfs-tools)")
	}
	if err := os.Symlink(rauc, filepath.Join(h.hostDir, "bin", "rauc")); err != nil {
		t.Fatal(err)
	}
}

func TestPostImageSignsRootfs(t *testing.T) {
	h := newHooks(t)
	h.withRAUC(t)
	rk := writeRAUCKeys(t)
	top := fakeTopDir(t)
	bin := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bin, "rpi-firmware"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Incompressible, so the squashfs RAUC makes is more than a block.
	rootfs := make([]byte, 256<<10)
	for i := 0; i < len(rootfs); i += sha256.Size {
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		copy(rootfs[i:], sum[:])
	}
	if err := os.WriteFile(filepath.Join(bin, "rootfs.ext4"), rootfs, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"BINARIES_DIR": bin, "HOST_DIR": h.hostDir,
		"PALMD_SIGNING_KEY": h.key, "PALMD_SIGNING_PUB": h.pub,
		"PALMD_RAUC_CERT": rk.cert, "PALMD_RAUC_KEY": rk.key,
		"PALMD_FW_VERSION": "17", "PALMD_FW_RELEASE": "1.7.0", "SOURCE_DATE_EPOCH": "1700000000",
	}
	if out, err := runScript(t, "post-image.sh", top, env, bin); err != nil {
		t.Fatalf("post-image.sh: %v\n%s", err, out)
	}

	// RAUC accepts its bundle with the image's keyring.
	raucb := filepath.Join(bin, "palmkiosk.raucb")
	info, err := exec.Command("rauc", "info", "--keyring="+rk.cert, "--output-format=json", raucb).Output()
	if err != nil {
		t.Fatalf("rauc info: %v\n%s", err, info)
	}
	for _, want := range []string{`"compatible":"palmkiosk-rpi4"`, `"version":"1.7.0"`, `"filename":"rootfs.ext4"`} {
		if !strings.Contains(string(info), want) {
			t.Errorf("rauc info lacks %s:\n%s", want, info)
		}
	}
	if !strings.Contains(read(t, board+"/overlay/etc/rauc/system.conf"), "compatible=palmkiosk-rpi4\n") {
		t.Error("the bundle's compatible is not the image's")
	}

	keys, err := secureboot.ParsePublicKeys([]byte(read(t, h.pub)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(bin, "palmkiosk.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := secureboot.Policy{Keys: keys, Product: "palmkiosk", MinVersion: 17}.OpenBundle(f)
	if err != nil {
		t.Fatalf("the bundle post-image.sh made: %v", err)
	}
	payload, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("the bundle's payload: %v", err)
	}
	if m := b.Manifest(); m.Version != 17 || m.Release != "1.7.0" || m.Created.Unix() != 1700000000 {
		t.Errorf("manifest %+v", m)
	}
	if !bytes.Equal(payload, []byte(read(t, raucb))) {
		t.Error("the envelope's payload is not the RAUC bundle")
	}
	if got, want := read(t, filepath.Join(bin, "rpi-firmware/cmdline.txt")), read(t, filepath.Join(board, "cmdline-a.txt")); got != want {
		t.Errorf("the factory image does not commit slot a: cmdline.txt = %q", got)
	}
	args := read(t, filepath.Join(top, "genimage.args"))
	if !strings.Contains(args, "-c ") || !strings.HasSuffix(strings.TrimSpace(args), board+"/genimage.cfg") {
		t.Errorf("genimage.sh called with %q", args)
	}
}

func TestPostImageNeedsSigningEnvironment(t *testing.T) {
	h := newHooks(t)
	full := map[string]string{
		"BINARIES_DIR": t.TempDir(), "HOST_DIR": h.hostDir,
		"PALMD_SIGNING_KEY": h.key, "PALMD_SIGNING_PUB": h.pub, "PALMD_FW_VERSION": "1",
		"PALMD_RAUC_CERT": "rauc.cert.pem", "PALMD_RAUC_KEY": "rauc.key.pem",
	}
	for name := range full {
		t.Run("without "+name, func(t *testing.T) {
			top := fakeTopDir(t)
			env := maps.Clone(full)
			delete(env, name)
			out, err := runScript(t, "post-image.sh", top, env, full["BINARIES_DIR"])
			if err == nil {
				t.Fatalf("post-image.sh succeeded without %s", name)
			}
			if !strings.Contains(string(out), name) {
				t.Errorf("the error does not name %s: %s", name, out)
			}
			if _, err := os.Stat(filepath.Join(top, "genimage.args")); err == nil {
				t.Error("genimage ran anyway")
			}
		})
	}
}

func TestPostBuild(t *testing.T) {
	h := newHooks(t)
	target := t.TempDir()
	palmd := bytes.Repeat([]byte("\x7fELF palmd for aarch64 "), 1000)
	writeFileT(t, filepath.Join(target, "usr/bin/palmd"), string(palmd), 0o755)
	// Buildroot copies the overlay into the target before post-build.
	writeFileT(t, filepath.Join(target, factoryConfig), read(t, filepath.Join(board, "overlay", factoryConfig)), 0o644)
	cert := writeRAUCKeys(t).cert
	factoryPub, _, _ := ed25519.GenerateKey(nil)
	factoryKey := base64.StdEncoding.EncodeToString(factoryPub)
	env := map[string]string{"TARGET_DIR": target, "HOST_DIR": h.hostDir, "PALMD_SIGNING_KEY": h.key,
		"PALMD_SIGNING_PUB": h.pub, "PALMD_FW_VERSION": "17", "PALMD_RAUC_CERT": cert, "PALMD_FACTORY_KEY": factoryKey}
	if out, err := runScript(t, "post-build.sh", t.TempDir(), env, target); err != nil {
		t.Fatalf("post-build.sh: %v\n%s", err, out)
	}
	// The factory config admits the factory station's key, and only it.
	cfg, err := config.Load(filepath.Join(target, factoryConfig))
	if err != nil {
		t.Fatalf("the factory config after post-build.sh: %v", err)
	}
	if techs := cfg.Console.Technicians; len(techs) != 1 || techs[0].Role != config.RoleFactory || !techs[0].PublicKey().Equal(factoryPub) {
		t.Errorf("the factory config's technicians: %+v, want the factory key alone", techs)
	}
	keys, err := secureboot.ParsePublicKeys([]byte(read(t, filepath.Join(target, "etc/palmd/trusted-keys.pem"))))
	if err != nil || len(keys) != 1 {
		t.Fatalf("trusted keys: %v, %v", keys, err)
	}
	if read(t, filepath.Join(target, "etc/rauc/keyring.pem")) != read(t, cert) {
		t.Error("RAUC's keyring is not the signing certificate")
	}
	// The release header verifies against the binary it was made for.
	hdr, err := os.Open(filepath.Join(target, "usr/lib/palmd/release.sig"))
	if err != nil {
		t.Fatal(err)
	}
	defer hdr.Close()
	m, err := secureboot.Policy{Keys: keys, Product: "palmkiosk"}.VerifyRelease(hdr, bytes.NewReader(palmd))
	if err != nil || m.Version != 17 {
		t.Fatalf("release.sig: %+v, %v", m, err)
	}
	for _, l := range []struct{ link, want string }{
		{"etc/systemd/system/local-fs.target.wants/data.mount", "../data.mount"},
		{"etc/systemd/system/local-fs.target.wants/boot.mount", "../boot.mount"},
		{"etc/systemd/system/multi-user.target.wants/palmd-reboot.path", "../palmd-reboot.path"},
	} {
		got, err := os.Readlink(filepath.Join(target, l.link))
		if err != nil || got != l.want {
			t.Errorf("%s -> %q, %v; want %s", l.link, got, err, l.want)
		}
		if _, err := os.Stat(filepath.Join(board, "overlay/etc/systemd/system", filepath.Base(l.want))); err != nil {
			t.Errorf("the enabled %s is not in the overlay: %v", l.want, err)
		}
	}
	for _, dir := range []string{"data", "boot"} {
		if fi, err := os.Stat(filepath.Join(target, dir)); err != nil || !fi.IsDir() {
			t.Errorf("no /%s mount point: %v", dir, err)
		}
	}
	for _, name := range []string{"PALMD_SIGNING_PUB", "PALMD_SIGNING_KEY", "PALMD_FW_VERSION", "PALMD_RAUC_CERT", "PALMD_FACTORY_KEY", "HOST_DIR"} {
		env := maps.Clone(env)
		delete(env, name)
		if out, err := runScript(t, "post-build.sh", t.TempDir(), env, target); err == nil || !strings.Contains(string(out), name) {
			t.Errorf("post-build.sh without %s: %v, %s", name, err, out)
		}
	}
	env["PALMD_FACTORY_KEY"] = `x", "role": "technician`
	if out, err := runScript(t, "post-build.sh", t.TempDir(), env, target); err == nil || !strings.Contains(string(out), "PALMD_FACTORY_KEY: want") {
		t.Errorf("post-build.sh with a factory key that is not base64: %v, %s", err, out)
	}
}
