//go:build sim

package main

// This file is the simulation build (go build -tags sim): the simulated
// parts, the embedded NATS server and reference cloud, and the scenario
// player. The production palmd links none of it.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/firmware/config"
	"github.com/palmd/palmd/uplink/dev"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/roi"
	"github.com/palmd/palmd/vision/synth"
)

// simFlags are the flags only the simulation build has.
type simFlags struct{ scenario, snapshot, screens, web string }

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.scenario, "scenario", "", "play a scenario (built-in `name` or file) on simulated hardware and exit")
	fs.StringVar(&f.snapshot, "snapshot", "", "with -scenario: save the final screen as a PNG `file`")
	fs.StringVar(&f.screens, "screens", "", "with -scenario: save every screen it showed, in order, as PNGs in `dir`")
	fs.StringVar(&f.web, "web", "", "serve the kiosk page on `addr` (loopback only, e.g. 127.0.0.1:8080); with -scenario, keep running after it until interrupted")
}

func simUsage() string {
	return `
Simulation build (built with -tags sim):
  palmd -hw=sim              the kiosk on simulated parts; without uplink.url it
                             starts an embedded NATS server and the reference cloud
  palmd -hw=sim -scenario NAME|FILE [-snapshot FILE] [-screens DIR]
                             play a scenario, exit 0 only if every expectation held
  palmd -hw=sim -web 127.0.0.1:8080 [-scenario NAME|FILE]
                             the kiosk in a browser: its screen live, its events,
                             and the simulator's controls; runs until interrupted
  Built-in scenarios: ` + strings.Join(sim.Builtin(), ", ") + `
`
}

func hardwareKinds() []string { return []string{"sim", "linux"} }

// simulation is what serve needs to run on simulated hardware.
type simulation struct {
	world    *sim.World
	play     *sim.Scenario // nil: run until ctx ends
	snapshot string        // with play: save the final screen here as a PNG
	screens  string        // with play: save every screen here, in order
	web      *webHub       // the kiosk page, if asked for
	webAddr  string
	// pos, if set, is where POS clients connect instead of pos.listen's
	// socket: tests give one in memory, so that palmd runs in a
	// testing/synctest bubble (a socket read never counts as waiting).
	pos net.Listener
}

// simulation returns the simulation cfg asks for, or nil for real hardware.
func (f simFlags) simulation(cfg config.Config) (*simulation, error) {
	if (f.snapshot != "" || f.screens != "") && f.scenario == "" {
		return nil, errors.New("-snapshot and -screens go with -scenario")
	}
	if f.web != "" {
		if err := checkLoopback(f.web); err != nil {
			return nil, err
		}
	}
	if cfg.Hardware != "sim" {
		if f.scenario != "" || f.web != "" {
			return nil, errors.New("-scenario and -web need simulated hardware (-hw=sim)")
		}
		return nil, nil
	}
	s := &simulation{world: sim.NewWorld(sim.FrameClock(clockwork.NewRealClock())), snapshot: f.snapshot,
		screens: f.screens, webAddr: f.web}
	if f.web != "" {
		s.web = newWebHub(s.world)
	}
	if f.scenario != "" {
		sc, err := sim.LoadScenario(f.scenario)
		if err != nil {
			return nil, err
		}
		s.play = &sc
	}
	return s, nil
}

// devices wires every simulated part of the world.
func (s *simulation) devices(clockwork.Clock) firmware.Devices {
	w := s.world
	var screen display.Display = w.Display()
	if s.web != nil {
		screen = mirror{Display: w.Display(), hub: s.web}
	}
	return firmware.Devices{
		Camera:   w.Camera(),
		Light:    w.Light(),
		Presence: w.Presence(),
		Display:  screen,
		Cards:    w.Cards(),
		Keypad:   w.Keypad(),
		Gate:     w.Gate(),
	}
}

// posLine is the simulated point of sale's line, nil without a simulation.
func (s *simulation) posLine() io.ReadWriteCloser {
	if s == nil {
		return nil
	}
	return s.world.POSLine()
}

// patterns is the source of the captures' lighting patterns: a fixed
// seed, so that a scenario or an evaluation plays the same way every
// time. Nil without a simulation (crypto/rand).
func (s *simulation) patterns() rand.Source {
	if s == nil {
		return nil
	}
	return rand.NewPCG(1, 2)
}

// posListener is the listener POS clients connect to in place of
// pos.listen's socket, or nil.
func (s *simulation) posListener() net.Listener {
	if s == nil {
		return nil
	}
	return s.pos
}

// attachCloud gives the world's phone app the embedded reference cloud, if
// palmd started one: an app enrolment photographs the person's palm (a
// render of it, cut as the kiosk cuts it) and holds it there as pending.
func (s *simulation) attachCloud(u *cloudLink) {
	d, ok := u.embedded.(*dev.Dev)
	if s == nil || !ok {
		return
	}
	s.world.SetAppEnrolment(func(person, phone, card string) error {
		photo, err := palmPhoto(person)
		if err != nil {
			return err
		}
		defer clear(photo.Pix)
		_, err = d.Cloud.AddPending(photo, []byte(phone), []byte(card))
		return err
	})
}

// palmPhoto is the palm region of a photo of person's palm taken by the app.
func palmPhoto(person string) (*image.Gray, error) {
	scene := synth.NewScene(synth.Capture{Identity: synth.IdentityOf(person), Seed: 100,
		Presentation: synth.Genuine, Condition: synth.Good})
	frame := image.NewGray(image.Rect(0, 0, synth.Width, synth.Height))
	defer clear(frame.Pix)
	scene.Render(frame, 0, true)
	ex := roi.NewExtractor()
	defer ex.Close()
	dst := image.NewGray(image.Rect(0, 0, roi.Size, roi.Size))
	if err := ex.Extract(frame, nil, dst); err != nil {
		return nil, fmt.Errorf("app enrolment: the palm photo: %w", err)
	}
	return dst, nil
}

// embeddedCloud: without uplink.url, the simulation build starts its own.
const embeddedCloud = true

// startEmbeddedCloud starts the embedded NATS server and reference cloud,
// which provision this kiosk's credentials in memory, and points u at them.
// The server listens on no port: palmd and the cloud connect to it through
// in-memory pipes, with TLS and credentials as over a socket, so that tests
// can run the whole palmd on a synctest bubble's clock (dev.StartInProcess).
func startEmbeddedCloud(ctx context.Context, cfg config.Config, log *slog.Logger, u *cloudLink) (sealKey, payKey []byte, err error) {
	d, err := dev.StartInProcess(ctx, cfg.DeviceID, log.With("component", "devcloud"))
	if err != nil {
		return nil, nil, fmt.Errorf("starting the embedded NATS server and reference cloud: %w", err)
	}
	log.Info("embedded NATS server (in-process, no port) and reference cloud started")
	u.url, u.signKey, u.opts, u.embedded = d.URL, d.SignKey, d.ClientOptions(), d
	return d.SealKey, d.PaymentKey, nil
}

// simEvent is what the scenario player reads of an event.
type simEvent = sim.Event

func toSimEvent(ev bus.Event) sim.Event {
	return sim.Event{Event: ev.Event, Flow: ev.Flow, Outcome: ev.Outcome, Screen: ev.Screen, Reason: ev.Reason}
}

// playScenario plays the scenario against the world, and saves the screen
// it ended on when asked to, before the display is halted.
func (s *simulation) playScenario(ctx context.Context, log *slog.Logger, events <-chan sim.Event) error {
	log.Info("playing scenario", "name", s.play.Name, "steps", len(s.play.Steps))
	err := s.play.Play(ctx, s.world, events)
	if s.snapshot != "" {
		err = errors.Join(err, savePNG(s.snapshot, s.world.Snapshot(image.Pt(800, 480))))
	}
	if s.screens != "" {
		err = errors.Join(err, saveScreens(s.screens, s.world.Screens()))
	}
	if err != nil {
		return fmt.Errorf("scenario %s failed:\n%w", s.play.Name, err)
	}
	log.Info("scenario passed", "name", s.play.Name)
	return nil
}

// saveScreens writes each screen of shown, in order, as dir/NNN_name.png
// at 800x480: one file each time the screen changed (a screen redrawn with
// new figures is saved as it last looked).
func saveScreens(dir string, shown []display.Screen) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-screens: %w", err)
	}
	n := 0
	for i, s := range shown {
		if i+1 < len(shown) && shown[i+1].Name == s.Name {
			continue
		}
		n++
		img := image.NewRGBA(image.Rect(0, 0, 800, 480))
		display.Render(img, s)
		if err := savePNG(filepath.Join(dir, fmt.Sprintf("%03d_%s.png", n, s.Name)), img); err != nil {
			return fmt.Errorf("-screens: %w", err)
		}
	}
	return nil
}

// cloud is what the kiosk asks: c, across the simulated network, which a
// scenario's network step or the page can cut.
func (s *simulation) cloud(c firmware.Cloud) firmware.Cloud {
	return simNetwork{Cloud: c, world: s.world}
}

// simNetwork is the simulated network between the kiosk and its cloud:
// cut, requests fail at once; cut while a request is in flight (the
// world's cut after a request), the cloud has the request and its answer
// never comes: the request waits until the kiosk gives up on it.
type simNetwork struct {
	firmware.Cloud
	world *sim.World
}

var errNetworkCut = errors.New("sim: the network is cut")

func (n simNetwork) Do(ctx context.Context, req wire.Request) (wire.Decision, error) {
	if n.world.NetworkCut() {
		return wire.Decision{}, errNetworkCut
	}
	dec, err := n.Cloud.Do(ctx, req)
	if n.world.RequestReached() {
		<-ctx.Done()
		return wire.Decision{}, fmt.Errorf("sim: the network was cut with the answer under way: %w", ctx.Err())
	}
	return dec, err
}

// eventSink is the page's view of the event bus, if there is a page.
func (s *simulation) eventSink() func(bus.Event) {
	if s.web == nil {
		return nil
	}
	return s.web.event
}

// startWeb serves the page, if asked for, for the kiosk k.
//
// The kiosk is told when the simulated network is cut or restored, as
// the uplink tells it when the link drops or comes back.
func (s *simulation) startWeb(ctx context.Context, g *errgroup.Group, k *firmware.Kiosk, log *slog.Logger) error {
	s.world.OnNetwork(func(cut bool) { k.CloudHealth(!cut) })
	if s.web == nil {
		return nil
	}
	return s.web.serveWeb(ctx, g, s.webAddr, log)
}

// staysUp reports whether palmd keeps running once the scenario is done:
// with the page, the kiosk is there to be played with.
func (s *simulation) staysUp() bool { return s.web != nil }

// savePNG writes img to path, which the user named on the command line.
func savePNG(path string, img image.Image) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(fh, img); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// selftestSimDevices are the parts palmd selftest -hw=sim tests.
func selftestSimDevices() (firmware.Devices, error) {
	return (&simulation{world: sim.NewWorld()}).devices(nil), nil
}
