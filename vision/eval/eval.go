package eval

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/match"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/roi"
	"github.com/palmd/palmd/vision/synth"
)

// GateAttempts is how many bursts a synthetic capture leaves room for: the
// first lit frame never passes the gate (motion needs two frames), so a good
// capture passes with its second burst.
const GateAttempts = 3

// GateRun is how many consecutive lit frames must pass the gate before a
// synthetic capture's challenge-response burst is taken.
const GateRun = 2

// Capture is one capture to score: its ground truth and a way to get its
// frames. Frame(i, lit) returns the lit or unlit frame of pair i; the
// returned image may be reused by the next call with the same arguments
// on another capture, so an evaluator never holds more than one capture's
// frames.
type Capture struct {
	Name      string
	Identity  string
	Label     synth.Presentation
	Condition synth.Condition // Good for external sets
	Pairs     int
	Frame     func(i int, lit bool) (*image.Gray, error)
	// Burst, when not nil, renders frame number frame (of the sensor's
	// frame clock; pair k of Frame is frame 2k) lit with the given
	// liveness bank bits into the i-th burst buffer: synthetic sets
	// follow the pattern the pipeline draws. A recorded set's burst was
	// lit as Pattern says, and Burst returns its i-th frame.
	Burst func(i, frame int, banks uint8) (*image.Gray, error)
	// Pattern is a recorded burst's pattern (BurstFrames bank bits); nil
	// for a synthetic capture, whose pattern is drawn from Seed.
	Pattern []uint8
	// DistanceMM is the presence sensor's reading (0: unknown), Black the
	// sensor's black level (0: liveness.DefaultBlack), Seed what the
	// burst's pattern is drawn from (an evaluation must be reproducible;
	// the firmware uses liveness.NewPattern).
	DistanceMM int
	Black      float64
	Seed       uint64
}

// Outcome is what the pipeline made of one capture.
type Outcome struct {
	Capture   string
	Label     synth.Presentation
	Condition synth.Condition
	Passed    bool            // a whole burst passed the quality gate
	Quality   quality.Reason  // the gate's last verdict: OK when Passed
	Live      liveness.Result // on the burst that passed, or on the last BurstPairs pairs
	ROI       bool            // the palm region was found (only when Passed)
	Gate      quality.Scores  // the gate's last measurements
	Identity  string          // whose palm (for an attack: whose it copies)
	// Poses are the matcher's codes of the palm region, when ROI: its
	// template, then the others an identification compares it at
	// (match.Poses).
	Poses []match.Template
}

// Accepted reports whether the system took the capture for a live palm.
func (o Outcome) Accepted() bool { return o.Passed && o.Live.Live }

// Pipeline holds one worker's quality gate, liveness checker and region
// extractor. It is not safe for concurrent use.
type Pipeline struct {
	gate    *quality.Gate
	live    *liveness.Checker
	roi     *roi.Extractor
	burst   []liveness.Pair
	dst     *image.Gray
	frames  [liveness.BurstFrames]liveness.Frame
	pattern [liveness.BurstFrames]uint8
	lit     []*image.Gray // the frames the palm region is cut from
}

// NewPipeline allocates a Pipeline.
func NewPipeline() *Pipeline {
	return &Pipeline{
		gate:  quality.NewGate(),
		live:  liveness.NewChecker(),
		roi:   roi.NewExtractor(),
		burst: make([]liveness.Pair, liveness.BurstPairs),
		dst:   image.NewGray(image.Rect(0, 0, roi.Size, roi.Size)),
		lit:   make([]*image.Gray, 0, liveness.BurstFrames),
	}
}

// Close frees the pipeline's buffers.
func (p *Pipeline) Close() error {
	clear(p.dst.Pix)
	return errors.Join(p.gate.Close(), p.live.Close(), p.roi.Close())
}

// Run scores one capture the way the firmware does: after a gate Reset it
// collects a burst of BurstPairs pairs whose lit frames all pass the gate,
// offering the pairs in order; when a lit frame fails, the burst starts again
// at the next pair (the gate keeps its motion state). The first frame never
// passes (motion needs two). The burst goes to liveness and its lit frames
// to the region extractor (ExtractBurst); a synthetic capture refused only for lack
// of micro-motion takes liveness.StillRetakes more bursts, as the firmware
// does (a recorded set has only its own pairs). When the pairs run out before a whole burst
// passed, liveness still runs on the last BurstPairs pairs, so that its error
// rates cover every capture.
func (p *Pipeline) Run(c Capture) (Outcome, error) {
	o := Outcome{Capture: c.Name, Identity: c.Identity, Label: c.Label, Condition: c.Condition, Quality: quality.NoPalm}
	if c.Pairs < liveness.BurstPairs {
		return o, fmt.Errorf("eval: capture %q has %d pairs, need at least %d", c.Name, c.Pairs, liveness.BurstPairs)
	}
	// A recorded set's burst is its pairs, so all of them must pass; a
	// synthetic capture takes a challenge-response burst after GateRun
	// good frames.
	run := liveness.BurstPairs
	if c.Burst != nil {
		run = GateRun
	}
	p.gate.Reset()
	start := 0
	var roiUnlit *image.Gray
	for k := 0; k < c.Pairs && !o.Passed; k++ {
		if c.Pairs-start < run {
			break
		}
		lit, err := c.Frame(k, true)
		if err != nil {
			return o, err
		}
		unlit, err := c.Frame(k, false)
		if err != nil {
			return o, err
		}
		v := p.gate.CheckAt(lit, unlit, c.DistanceMM)
		o.Quality, o.Gate = v.Reason, v.Scores
		switch {
		case !v.OK:
			start = k + 1
		case k-start+1 == run:
			o.Passed = true
		}
	}
	if c.Burst != nil {
		// A challenge-response burst right after the frames the gate saw,
		// and as many more as the firmware takes for a still one.
		first := 2 * min(start+run, c.Pairs)
		for take := uint64(0); take <= liveness.StillRetakes; take++ {
			if c.Pattern != nil {
				copy(p.pattern[:], c.Pattern)
			} else {
				patternFor(c.Seed, take, p.pattern[:])
			}
			for i, b := range p.pattern {
				img, err := c.Burst(i, first+i, b)
				if err != nil {
					return o, err
				}
				p.frames[i] = liveness.Frame{Img: img, Banks: b}
			}
			o.Live = p.live.CheckBurst(liveness.Burst{Frames: p.frames[:], Black: c.Black, DistanceMM: c.DistanceMM})
			if o.Live.Reason != liveness.NoMicroMove || c.Pattern != nil {
				break // a recording has no further burst
			}
			first += liveness.BurstFrames
		}
		// The region is cut from the last burst, as the firmware does.
		p.lit = liveness.Burst{Frames: p.frames[:]}.Lit(p.lit[:0])
		for _, f := range p.frames {
			if f.Banks == liveness.BanksOff {
				roiUnlit = f.Img
				break
			}
		}
	} else {
		start = min(start, c.Pairs-liveness.BurstPairs)
		for i := range p.burst {
			lit, err := c.Frame(start+i, true)
			if err != nil {
				return o, err
			}
			unlit, err := c.Frame(start+i, false)
			if err != nil {
				return o, err
			}
			p.burst[i] = liveness.Pair{Lit: lit, Unlit: unlit}
		}
		o.Live = p.live.Check(p.burst)
		for _, pr := range p.burst {
			p.lit = append(p.lit, pr.Lit)
		}
		roiUnlit = p.burst[0].Unlit
	}
	defer func() {
		clear(p.frames[:])
		clear(p.burst)
		clear(p.lit)
		p.lit = p.lit[:0]
	}()
	if o.Passed {
		o.ROI = p.roi.ExtractBurst(p.lit, roiUnlit, p.dst) == nil
		if o.ROI && c.Label == synth.Genuine {
			if ps, err := match.Poses(p.dst); err == nil {
				o.Poses = ps
			}
		}
		clear(p.dst.Pix)
	}
	return o, nil
}

// patternFor draws the pattern of a synthetic capture's burst number take
// from its seed: the same on every run.
func patternFor(seed, take uint64, dst []uint8) {
	liveness.PatternFrom(rand.NewPCG(seed, 0x9a77e54+take), dst)
}

// Evaluate scores captures 0..n-1 on one Pipeline per CPU and adds every
// outcome to a Report, in capture order whatever order the workers finish
// in. capture(i, frames) describes capture i; its frames may use the
// worker's buffers in frames.
func Evaluate(ctx context.Context, n int, capture func(i int, frames *Frames) Capture) (*Report, error) {
	g, ctx := errgroup.WithContext(ctx)
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	outcomes := make([]Outcome, n)
	var next atomic.Int64
	for range workers {
		g.Go(func() error {
			p := NewPipeline()
			defer p.Close()
			frames := &Frames{}
			defer frames.wipe()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				o, err := p.Run(capture(i, frames))
				if err != nil {
					return err
				}
				outcomes[i] = o
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	r := &Report{}
	for _, o := range outcomes {
		r.Add(o)
	}
	return r, nil
}

// Frames is one worker's frame buffers, reused from capture to capture.
type Frames struct {
	imgs []*image.Gray
}

// Get returns buffer i, of the given size, allocating it on first use.
// A generator outside this package renders a capture's frames into them.
func (f *Frames) Get(i int, size image.Point) *image.Gray {
	for len(f.imgs) <= i {
		f.imgs = append(f.imgs, nil)
	}
	if f.imgs[i] == nil || f.imgs[i].Rect.Size() != size {
		f.imgs[i] = image.NewGray(image.Rectangle{Max: size})
	}
	return f.imgs[i]
}

func (f *Frames) wipe() {
	for _, img := range f.imgs {
		if img != nil {
			clear(img.Pix)
		}
	}
}
