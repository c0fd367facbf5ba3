package eval

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/palmd/palmd/vision/internal/stats"
	"github.com/palmd/palmd/vision/liveness"
	"github.com/palmd/palmd/vision/quality"
	"github.com/palmd/palmd/vision/synth"
)

const numConditions = int(synth.Sleeve) + 1

// Counts are the outcomes of one presentation kind (for Genuine: the
// captures in condition Good).
type Counts struct {
	N        int // captures
	Passed   int // a whole burst passed the quality gate
	Live     int // judged live (whether or not the gate passed it)
	Accepted int // passed and judged live: accepted by the system
	ROI      int // passed and the palm region was found
	// MinScore and MaxScore bound the liveness scores (0.5 is the
	// threshold): how close the nearest capture came to the other side.
	MinScore, MaxScore float64
	// Reasons counts the liveness reasons of the captures not judged live.
	Reasons map[string]int
	// TwoChecks counts the captures two or more liveness checks refused;
	// Sole, by check, those one check alone refused.
	TwoChecks int
	Sole      map[string]int
	// Gate counts the gate's last verdict on the captures that did not pass.
	Gate map[quality.Reason]int
}

// Report accumulates outcomes. The zero value is empty and ready to use.
type Report struct {
	Kinds [len(presentations)]Counts // indexed by synth.Presentation
	// Conditions counts the bona fide genuine captures per condition
	// (indexed by synth.Condition): ISO/IEC 19795-1 reports error rates
	// per subgroup, and a check that refuses dark skin or a child's hand
	// more often than others shows only there.
	Conditions [numConditions]Counts
	// Quality is the gate's last verdict on genuine captures, per condition
	// and reason (in the order of quality.Reasons).
	Quality [numConditions][quality.NumReasons]int
	// Outcomes holds every outcome added, in the order added.
	Outcomes []Outcome
}

// Add counts one outcome.
func (r *Report) Add(o Outcome) {
	r.Outcomes = append(r.Outcomes, o)
	if o.Label == synth.Genuine {
		if int(o.Condition) < numConditions {
			for i, q := range quality.Reasons() {
				if q == o.Quality {
					r.Quality[o.Condition][i]++
				}
			}
		}
		if !o.Condition.BonaFide() {
			return
		}
	}
	if int(o.Label) >= len(r.Kinds) {
		return
	}
	r.Kinds[o.Label].add(o)
	if o.Label == synth.Genuine && int(o.Condition) < numConditions {
		r.Conditions[o.Condition].add(o)
	}
}

// add counts one outcome.
func (c *Counts) add(o Outcome) {
	if c.N == 0 {
		c.MinScore, c.MaxScore = o.Live.Score, o.Live.Score
	}
	c.MinScore, c.MaxScore = min(c.MinScore, o.Live.Score), max(c.MaxScore, o.Live.Score)
	c.N++
	if o.Passed {
		c.Passed++
		if o.ROI {
			c.ROI++
		}
	} else {
		if c.Gate == nil {
			c.Gate = map[quality.Reason]int{}
		}
		c.Gate[o.Quality]++
	}
	if o.Live.Live {
		c.Live++
		if o.Passed {
			c.Accepted++
		}
		return
	}
	if c.Reasons == nil {
		c.Reasons = map[string]int{}
	}
	c.Reasons[o.Live.Reason]++
	switch o.Live.Failed.Count() {
	case 0:
	case 1:
		if c.Sole == nil {
			c.Sole = map[string]int{}
		}
		c.Sole[o.Live.Reason]++
	default:
		c.TwoChecks++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// APCER is the share of attack presentations of kind p that the system
// accepted: a frame passed the gate and liveness judged the burst live.
func (r *Report) APCER(p synth.Presentation) float64 {
	return ratio(r.Kinds[p].Accepted, r.Kinds[p].N)
}

// PADAPCER is the share of attack presentations of kind p that liveness
// judged live, whether or not the gate let them through: the presentation
// attack detection on its own.
func (r *Report) PADAPCER(p synth.Presentation) float64 {
	return ratio(r.Kinds[p].Live, r.Kinds[p].N)
}

// SoleCheck reports how far liveness rests on one check for attack kind
// p: the check that alone refused the most of its captures ("" when none
// did) and APCER(PAD) as it would be without that check. The issue's
// aim, every species caught by two independent cues, means that second
// figure stays near APCER(PAD).
func (r *Report) SoleCheck(p synth.Presentation) (string, float64) {
	c := r.Kinds[p]
	best := ""
	for _, k := range slices.Sorted(maps.Keys(c.Sole)) {
		if best == "" || c.Sole[k] > c.Sole[best] {
			best = k
		}
	}
	return best, ratio(c.Live+c.Sole[best], c.N)
}

// BPCER is the share of genuine Good captures that liveness judged not
// live, whether or not the gate let them through.
func (r *Report) BPCER() float64 {
	g := r.Kinds[synth.Genuine]
	return ratio(g.N-g.Live, g.N)
}

// QualityRejectRate is the share of genuine Good captures in which no whole
// burst passed the gate.
func (r *Report) QualityRejectRate() float64 {
	g := r.Kinds[synth.Genuine]
	return ratio(g.N-g.Passed, g.N)
}

// ROIRate is the share of genuine Good captures that passed the gate in
// which the palm region was found.
func (r *Report) ROIRate() float64 {
	g := r.Kinds[synth.Genuine]
	return ratio(g.ROI, g.Passed)
}

// WriteTable prints the report as text tables.
func (r *Report) WriteTable(w io.Writer) error {
	pct := func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Presentation attacks (ISO/IEC 30107-3)")
	fmt.Fprintln(tw, "kind\tcaptures\tgated\tlive\taccepted\tAPCER(PAD)\tAPCER(system)\t95% upper\tmax score\tliveness reasons\tgate reasons")
	for _, p := range r.Species() {
		c := r.Kinds[p]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%.3f\t%s\t%s\n", p, c.N, c.Passed, c.Live, c.Accepted, pct(r.PADAPCER(p)), pct(r.APCER(p)), pct(stats.Upper95(c.Accepted, c.N)), c.MaxScore, reasonList(c.Reasons), gateList(c.Gate))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Independent checks (liveness alone)")
	fmt.Fprintln(tw, "kind\trefused by 2+ checks\tthe check that alone refuses most\tAPCER(PAD) without it")
	for _, p := range r.Species() {
		c := r.Kinds[p]
		sole, without := r.SoleCheck(p)
		if sole == "" {
			sole = "-"
		} else {
			sole = fmt.Sprintf("%s %d", sole, c.Sole[sole])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p, pct(ratio(c.TwoChecks, c.N)), sole, pct(without))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("eval: write table: %w", err)
	}
	g := r.Kinds[synth.Genuine]
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Bona fide (genuine: condition good and the hard conditions)")
	fmt.Fprintln(tw, "captures\tgated\tquality-reject\tlive\tBPCER\t95% upper\tmin score\tROI found\tliveness reasons\tgate reasons")
	fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%s\t%.3f\t%d (%s)\t%s\t%s\n", g.N, g.Passed, pct(r.QualityRejectRate()), g.Live, pct(r.BPCER()), pct(stats.Upper95(g.N-g.Live, g.N)), g.MinScore, g.ROI, pct(r.ROIRate()), reasonList(g.Reasons), gateList(g.Gate))
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Bona fide by condition")
	fmt.Fprintln(tw, "condition\tcaptures\tquality-reject\tBPCER\tliveness reasons")
	for i, c := range r.Conditions {
		if c.N > 0 {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", synth.Condition(i), c.N, pct(ratio(c.N-c.Passed, c.N)), pct(ratio(c.N-c.Live, c.N)), reasonList(c.Reasons))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("eval: write table: %w", err)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Quality gate on genuine captures: condition (rows) by last verdict (columns)")
	fmt.Fprint(tw, "condition")
	for _, q := range quality.Reasons() {
		fmt.Fprintf(tw, "\t%s", reasonName(q))
	}
	fmt.Fprintln(tw)
	for c := range numConditions {
		row := r.Quality[c]
		n := 0
		for _, v := range row {
			n += v
		}
		if n == 0 {
			continue
		}
		fmt.Fprint(tw, synth.Condition(c))
		for _, v := range row {
			fmt.Fprintf(tw, "\t%d", v)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("eval: write table: %w", err)
	}
	return nil
}

func reasonName(q quality.Reason) string {
	if q == quality.OK {
		return "ok"
	}
	return string(q)
}

// gateList formats gate verdict counts in the order of quality.Reasons.
func gateList(m map[quality.Reason]int) string {
	var parts []string
	for _, q := range quality.Reasons() {
		if m[q] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", reasonName(q), m[q]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// reasonList formats reason counts in a fixed order: "no_vein_response 3, ...".
func reasonList(m map[string]int) string {
	var parts []string
	for _, k := range []string{liveness.NoResponse, liveness.EmitsLight, liveness.Inconsistent, liveness.Specular, liveness.Flat, liveness.Glossy, liveness.NoVeins, liveness.PaintedVeins, liveness.NoMicroMove, liveness.TooFewFrames} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
