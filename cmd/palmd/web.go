//go:build sim

package main

// The kiosk in a browser (simulation build only, -web ADDR): a page that
// mirrors the kiosk's screen live, shows the event stream, the hand's
// measured figures and the session timings, and drives the simulated
// world. Standard library only: net/http and server-sent events; the page
// is one embedded HTML file with no build step. The production palmd has
// none of this file.

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/drivers/display"
	"github.com/palmd/palmd/drivers/sim"
	"github.com/palmd/palmd/firmware/bus"
	"github.com/palmd/palmd/vision/synth"
)

//go:embed web/index.html
var webFiles embed.FS

// checkLoopback refuses a -web address that is not on the loopback
// interface: the page drives the kiosk and is for the person at this
// machine only.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-web %q: want host:port, e.g. 127.0.0.1:8080: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("-web %q: port %q: want a number from 0 to 65535", addr, port)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-web %q: host %q: want a loopback address (127.0.0.1, ::1 or localhost)", addr, host)
	}
	return nil
}

// webHub is what the page sees: the screen on the display now and the
// kiosk's recent events, pushed to every open page.
type webHub struct {
	mu      sync.Mutex
	screen  display.Screen
	seq     uint64
	backlog []bus.Event
	subs    map[chan []byte]struct{}

	world *sim.World
	// url hears the page's address once it listens.
	url chan string
}

// backlogSize is how many past events a page that opens is shown.
const backlogSize = 200

func newWebHub(w *sim.World) *webHub {
	return &webHub{world: w, subs: map[chan []byte]struct{}{}, url: make(chan string, 1)}
}

// screenMsg is a screen as the page gets it: its words and figures; the
// picture is /screen.png.
type screenMsg struct {
	Seq      uint64        `json:"seq"`
	Name     string        `json:"name"`
	Title    string        `json:"title"`
	Body     string        `json:"body"`
	Footer   string        `json:"footer,omitempty"`
	Progress float64       `json:"progress,omitempty"`
	Hand     *display.Hand `json:"hand,omitempty"`
}

func sse(kind string, v any) []byte {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	return fmt.Appendf(nil, "event: %s\ndata: %s\n\n", kind, b)
}

func (h *webHub) screenMsg() screenMsg {
	s := h.screen
	return screenMsg{Seq: h.seq, Name: s.Name, Title: s.Title, Body: s.Body, Footer: s.Footer, Progress: s.Progress, Hand: s.Hand}
}

// show is the display's every Show, redraws included (the hand moves).
func (h *webHub) show(s display.Screen) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.screen = s
	h.seq++
	h.send(sse("screen", h.screenMsg()))
}

// event is a sink of the kiosk's event bus.
func (h *webHub) event(ev bus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.backlog = append(h.backlog, ev)
	if len(h.backlog) > backlogSize {
		h.backlog = h.backlog[len(h.backlog)-backlogSize:]
	}
	h.send(sse("kiosk", ev))
}

// send hands msg to every page; a page too slow to read is skipped (it
// catches up with the next screen). Callers hold h.mu.
func (h *webHub) send(msg []byte) {
	for c := range h.subs {
		select {
		case c <- msg:
		default:
		}
	}
}

func (h *webHub) subscribe() (chan []byte, [][]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := make(chan []byte, 256)
	h.subs[c] = struct{}{}
	first := [][]byte{sse("screen", h.screenMsg())}
	for _, ev := range h.backlog {
		first = append(first, sse("kiosk", ev))
	}
	return c, first
}

func (h *webHub) unsubscribe(c chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, c)
}

// mirror is the simulated display, with every screen also sent to the
// page.
type mirror struct {
	*sim.Display
	hub *webHub
}

func (m mirror) Show(s display.Screen) error {
	err := m.Display.Show(s)
	m.hub.show(s)
	return err
}

// handler serves the page and its API.
func (h *webHub) handler() http.Handler {
	mux := http.NewServeMux()
	page, _ := fs.Sub(webFiles, "web") // the embedded directory: cannot fail
	mux.Handle("GET /{$}", http.FileServerFS(page))
	mux.HandleFunc("GET /screen.png", h.png)
	mux.HandleFunc("GET /events", h.stream)
	mux.HandleFunc("GET /api/options", h.options)
	mux.HandleFunc("POST /api/step", h.step)
	mux.HandleFunc("POST /api/network", h.network)
	return loopbackOnly(mux)
}

// loopbackOnly answers only requests addressed to a loopback host, so a web
// page elsewhere cannot reach the kiosk through this browser by a DNS name
// that points at 127.0.0.1.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if checkLoopback(r.Host) != nil && checkLoopback(r.Host+":80") != nil {
			http.Error(w, "kiosk page: only on a loopback address", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *webHub) png(w http.ResponseWriter, r *http.Request) {
	size := image.Pt(800, 480)
	if r.FormValue("size") == "1280x800" {
		size = image.Pt(1280, 800)
	}
	h.mu.Lock()
	s := h.screen
	h.mu.Unlock()
	img := image.NewRGBA(image.Rectangle{Max: size})
	display.Render(img, s)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	png.Encode(w, img)
}

func (h *webHub) stream(w http.ResponseWriter, r *http.Request) {
	flush := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	c, first := h.subscribe()
	defer h.unsubscribe(c)
	for _, msg := range first {
		w.Write(msg)
	}
	if flush.Flush() != nil {
		return
	}
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg := <-c:
			w.Write(msg)
		case <-keepalive.C:
			io.WriteString(w, ": keepalive\n\n")
		}
		if flush.Flush() != nil {
			return
		}
	}
}

func (h *webHub) options(w http.ResponseWriter, _ *http.Request) {
	var o struct {
		Presentations []string `json:"presentations"`
		Conditions    []string `json:"conditions"`
		Cut           bool     `json:"network_cut"`
	}
	for _, p := range synth.Presentations() {
		o.Presentations = append(o.Presentations, p.String())
	}
	for _, c := range synth.Conditions() {
		o.Conditions = append(o.Conditions, c.String())
	}
	o.Cut = h.world.NetworkCut()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(o)
}

// step plays one scenario step (JSON, as in a scenario file) on the world:
// the page's controls are the scenario language, checked the same way.
func (h *webHub) step(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var st sim.Step
	if err := json.Unmarshal(b, &st); err != nil || st.Expect != nil {
		http.Error(w, fmt.Sprintf("step: want one scenario step without expect: %v", err), http.StatusBadRequest)
		return
	}
	sc, err := sim.ParseScenario(fmt.Appendf(nil, `{"name":"page","steps":[%s]}`, b))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := sc.Play(r.Context(), h.world, nil); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Not logged: a step may hold a card number.
	w.WriteHeader(http.StatusNoContent)
}

func (h *webHub) network(w http.ResponseWriter, r *http.Request) {
	cut, err := strconv.ParseBool(r.FormValue("cut"))
	if err != nil {
		http.Error(w, "network: cut: want true or false", http.StatusBadRequest)
		return
	}
	h.world.CutNetwork(cut)
	w.WriteHeader(http.StatusNoContent)
}

// serveWeb listens on addr and serves the page until ctx ends.
func (h *webHub) serveWeb(ctx context.Context, g *errgroup.Group, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-web: %w", err)
	}
	// Requests live in ctx: an open event stream ends with the kiosk.
	srv := &http.Server{Handler: h.handler(), ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	url := "http://" + ln.Addr().String() + "/"
	log.Info("kiosk page", "url", url)
	h.url <- url
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx) // event streams end with ctx; a slow one is dropped
		return nil
	})
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("kiosk page: %w", err)
		}
		return nil
	})
	return nil
}
