package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/palmd/palmd/vision/internal/stats"
	"github.com/palmd/palmd/vision/match"
	"github.com/palmd/palmd/vision/synth"
)

// Species returns the attack species with at least one capture in r, in
// the order of the presentations.
func (r *Report) Species() []synth.Presentation {
	var out []synth.Presentation
	for _, p := range presentations[1:] {
		if r.Kinds[p].N > 0 {
			out = append(out, p)
		}
	}
	return out
}

// WorstSpecies is the attack species with the highest APCER(system) and
// that APCER (ISO/IEC 30107-3 reports the worst case over species).
func (r *Report) WorstSpecies() (synth.Presentation, float64) {
	worst, v := synth.Genuine, -1.0
	for _, p := range r.Species() {
		if a := r.APCER(p); a > v {
			worst, v = p, a
		}
	}
	return worst, max(v, 0)
}

// scores returns the liveness scores of bona fide captures and of each
// attack species.
func (r *Report) scores() (bona []float64, attacks map[synth.Presentation][]float64) {
	attacks = map[synth.Presentation][]float64{}
	for _, o := range r.Outcomes {
		switch {
		case o.Label == synth.Genuine && o.Condition.BonaFide():
			bona = append(bona, o.Live.Score)
		case o.Label != synth.Genuine:
			attacks[o.Label] = append(attacks[o.Label], o.Live.Score)
		}
	}
	return bona, attacks
}

// rateAtLeast is the fraction of v at or above t.
func rateAtLeast(v []float64, t float64) float64 {
	if len(v) == 0 {
		return 0
	}
	n := 0
	for _, x := range v {
		if x >= t {
			n++
		}
	}
	return float64(n) / float64(len(v))
}

// BPCERAt is the liveness BPCER at the lowest score threshold at which the
// worst species' APCER(PAD) is at most apcer (ISO/IEC 30107-3's
// BPCER@APCER), and that threshold. Scores are liveness.Result.Score; the
// deployed threshold is 0.5.
func (r *Report) BPCERAt(apcer float64) (bpcer, threshold float64) {
	bona, attacks := r.scores()
	cands := []float64{0, 1.000001}
	for _, v := range attacks {
		for _, x := range v {
			cands = append(cands, math.Nextafter(x, 2))
		}
	}
	slices.Sort(cands)
	for _, t := range cands {
		ok := true
		for _, v := range attacks {
			if rateAtLeast(v, t) > apcer {
				ok = false
				break
			}
		}
		if ok {
			return 1 - rateAtLeast(bona, t), t
		}
	}
	return 1, 1
}

// MatchRates are the matcher's error rates on a run's bona fide captures.
type MatchRates struct {
	Identities int     `json:"identities"`
	Genuine    int     `json:"genuine_comparisons"`
	Impostor   int     `json:"impostor_comparisons"`
	FNMR       float64 `json:"fnmr"`
	FMR        float64 `json:"fmr"`
	// FNMRUpper95 and FMRUpper95 are their one-sided 95 % upper
	// confidence bounds (stats.Upper95): what the comparisons show.
	FNMRUpper95 float64 `json:"fnmr_upper95"`
	FMRUpper95  float64 `json:"fmr_upper95"`
	Threshold   float64 `json:"threshold"`
	// ByCondition splits the genuine comparisons by the probe's
	// condition (ISO/IEC 19795-1 reports error rates per subgroup): a
	// child's palm held close and a dark palm far away are not missed
	// alike.
	ByCondition map[string]ConditionFNMR `json:"fnmr_by_probe_condition"`
}

// ConditionFNMR is the FNMR of the probes taken in one condition.
type ConditionFNMR struct {
	Genuine int     `json:"genuine_comparisons"`
	Misses  int     `json:"misses"`
	FNMR    float64 `json:"fnmr"`
}

// MatchRates enrols, per identity, the first match.EnrolCaptures bona
// fide captures with a palm region, in capture order (at most all but
// one), and compares every later one (probes) with every enrolment by
// match.BestOfPoses at match.Threshold, as the cloud identifies.
func (r *Report) MatchRates() MatchRates {
	byID := map[string][]*Outcome{}
	var ids []string
	for i := range r.Outcomes {
		o := &r.Outcomes[i]
		if o.Label != synth.Genuine || !o.Condition.BonaFide() || len(o.Poses) == 0 {
			continue
		}
		if _, ok := byID[o.Identity]; !ok {
			ids = append(ids, o.Identity)
		}
		byID[o.Identity] = append(byID[o.Identity], o)
	}
	slices.Sort(ids)
	m := MatchRates{Threshold: match.Threshold, ByCondition: map[string]ConditionFNMR{}}
	enrol := map[string][]match.Template{}
	probes := map[string][]*Outcome{}
	for _, id := range ids {
		outs := byID[id]
		if len(outs) < 2 {
			continue
		}
		k := min(match.EnrolCaptures, len(outs)-1)
		for _, o := range outs[:k] {
			enrol[id] = append(enrol[id], o.Poses[0])
		}
		probes[id] = outs[k:]
		m.Identities++
	}
	var fn, fm int
	for id, ps := range probes {
		for e, ts := range enrol {
			for _, p := range ps {
				s := match.BestOfPoses(ts, p.Poses)
				if e == id {
					m.Genuine++
					c := m.ByCondition[p.Condition.String()]
					c.Genuine++
					if s < match.Threshold {
						fn++
						c.Misses++
					}
					m.ByCondition[p.Condition.String()] = c
				} else {
					m.Impostor++
					if s >= match.Threshold {
						fm++
					}
				}
			}
		}
	}
	for k, c := range m.ByCondition {
		c.FNMR = ratio(c.Misses, c.Genuine)
		m.ByCondition[k] = c
	}
	m.FNMR, m.FMR = ratio(fn, m.Genuine), ratio(fm, m.Impostor)
	m.FNMRUpper95, m.FMRUpper95 = stats.Upper95(fn, m.Genuine), stats.Upper95(fm, m.Impostor)
	return m
}

// JSON is the machine-readable report (cmd/palmeval -json); rates are
// fractions.
type JSON struct {
	Generator string                 `json:"generator"`
	Species   map[string]SpeciesJSON `json:"species"`
	BonaFide  BonaFideJSON           `json:"bona_fide"`
	Worst     WorstJSON              `json:"worst_species"`
	BPCERAt1  float64                `json:"bpcer_at_apcer_1"`
	BPCERAt5  float64                `json:"bpcer_at_apcer_5"`
	Matcher   MatchRates             `json:"matcher"`
}

// SpeciesJSON is one attack species' figures.
type SpeciesJSON struct {
	Captures    int     `json:"captures"`
	APCERPAD    float64 `json:"apcer_pad"`
	APCERSystem float64 `json:"apcer_system"`
	// APCERSystemUpper95 is APCER(system)'s one-sided 95 % upper
	// confidence bound (stats.Upper95): 1.98 % for 0 of 150.
	APCERSystemUpper95 float64 `json:"apcer_system_upper95"`
	// RefusedByTwo is the share two or more liveness checks refused;
	// SoleCheck and APCERPADWithoutSole are Report.SoleCheck's.
	RefusedByTwo        float64 `json:"refused_by_two_checks"`
	SoleCheck           string  `json:"sole_check"`
	APCERPADWithoutSole float64 `json:"apcer_pad_without_sole_check"`
}

// BonaFideJSON is the bona fide figures.
type BonaFideJSON struct {
	Captures      int     `json:"captures"`
	BPCER         float64 `json:"bpcer"`
	QualityReject float64 `json:"quality_reject"`
	ROIFound      float64 `json:"roi_found"`
	// BPCERUpper95 and QualityRejectUpper95 are one-sided 95 % upper
	// confidence bounds (stats.Upper95).
	BPCERUpper95         float64 `json:"bpcer_upper95"`
	QualityRejectUpper95 float64 `json:"quality_reject_upper95"`
	// ByCondition splits BPCER and quality-reject by the capture's
	// condition (Report.Conditions).
	ByCondition map[string]ConditionJSON `json:"by_condition"`
}

// ConditionJSON is the bona fide figures of one condition.
type ConditionJSON struct {
	Captures      int     `json:"captures"`
	BPCER         float64 `json:"bpcer"`
	QualityReject float64 `json:"quality_reject"`
}

// WorstJSON names the species with the highest APCER(system).
type WorstJSON struct {
	Label       string  `json:"label"`
	APCERSystem float64 `json:"apcer_system"`
}

// JSON returns the report's figures for machines.
func (r *Report) JSON(generator string) JSON {
	j := JSON{Generator: generator, Species: map[string]SpeciesJSON{}}
	for _, p := range r.Species() {
		c := r.Kinds[p]
		sole, without := r.SoleCheck(p)
		j.Species[p.String()] = SpeciesJSON{Captures: c.N, APCERPAD: r.PADAPCER(p), APCERSystem: r.APCER(p),
			APCERSystemUpper95: stats.Upper95(c.Accepted, c.N), RefusedByTwo: ratio(c.TwoChecks, c.N), SoleCheck: sole, APCERPADWithoutSole: without}
	}
	g := r.Kinds[synth.Genuine]
	j.BonaFide = BonaFideJSON{Captures: g.N, BPCER: r.BPCER(), QualityReject: r.QualityRejectRate(), ROIFound: r.ROIRate(),
		BPCERUpper95: stats.Upper95(g.N-g.Live, g.N), QualityRejectUpper95: stats.Upper95(g.N-g.Passed, g.N),
		ByCondition: map[string]ConditionJSON{}}
	for i, c := range r.Conditions {
		if c.N > 0 {
			j.BonaFide.ByCondition[synth.Condition(i).String()] = ConditionJSON{Captures: c.N, BPCER: ratio(c.N-c.Live, c.N), QualityReject: ratio(c.N-c.Passed, c.N)}
		}
	}
	w, v := r.WorstSpecies()
	j.Worst = WorstJSON{Label: w.String(), APCERSystem: v}
	j.BPCERAt1, _ = r.BPCERAt(0.01)
	j.BPCERAt5, _ = r.BPCERAt(0.05)
	j.Matcher = r.MatchRates()
	return j
}

// WriteJSON writes the report as one JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer, generator string) error {
	if err := json.NewEncoder(w).Encode(r.JSON(generator)); err != nil {
		return fmt.Errorf("eval: write json: %w", err)
	}
	return nil
}

// WriteSummary prints the ISO/IEC 30107-3 summary lines and the matcher's
// rates under the tables.
func (r *Report) WriteSummary(w io.Writer) error {
	ws, wv := r.WorstSpecies()
	b1, t1 := r.BPCERAt(0.01)
	b5, t5 := r.BPCERAt(0.05)
	m := r.MatchRates()
	_, err := fmt.Fprintf(w, "\nWorst species: %s, APCER(system) %.2f%%\nBPCER at APCER(PAD) 1%% (every species): %.2f%% (score threshold %.3f); at 5%%: %.2f%% (%.3f)\n"+
		"Matcher on this run's bona fide captures: %d identities, %d-capture enrolments, FNMR %.2f%% (%d genuine comparisons), FMR %.4f%% (%d impostor) at %.2f\n",
		ws, 100*wv, 100*b1, t1, 100*b5, t5, m.Identities, match.EnrolCaptures, 100*m.FNMR, m.Genuine, 100*m.FMR, m.Impostor, m.Threshold)
	if err != nil {
		return fmt.Errorf("eval: write summary: %w", err)
	}
	g := r.Kinds[synth.Genuine]
	wc := r.Kinds[ws]
	shows := fmt.Sprintf("What the run shows (one-sided 95 %% upper bounds, Clopper-Pearson): worst species APCER(system) %.2f%% (%d of %d), BPCER %.2f%% (%d of %d), quality-reject %.2f%% (%d of %d)",
		100*stats.Upper95(wc.Accepted, wc.N), wc.Accepted, wc.N, 100*stats.Upper95(g.N-g.Live, g.N), g.N-g.Live, g.N,
		100*stats.Upper95(g.N-g.Passed, g.N), g.N-g.Passed, g.N)
	if m.Genuine > 0 && m.Impostor > 0 {
		shows += fmt.Sprintf(", matcher FNMR %.2f%%, FMR %.2f in 10,000", 100*m.FNMRUpper95, 1e4*m.FMRUpper95)
	}
	_, err = fmt.Fprintln(w, shows)
	if err != nil {
		return fmt.Errorf("eval: write summary: %w", err)
	}
	if len(m.ByCondition) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("FNMR by the probe's condition:")
	for _, k := range slices.Sorted(maps.Keys(m.ByCondition)) {
		c := m.ByCondition[k]
		fmt.Fprintf(&b, " %s %.2f%% (%d of %d)", k, 100*c.FNMR, c.Misses, c.Genuine)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("eval: write summary: %w", err)
	}
	return nil
}

// WritePlot writes an SVG DET plot: for every attack species, APCER(PAD)
// against BPCER as the liveness score threshold sweeps, on normal-deviate
// axes from 0.1 % to 90 %, with the deployed threshold (0.5) marked.
func (r *Report) WritePlot(w io.Writer, title string) error {
	bona, attacks := r.scores()
	const size, margin = 480.0, 60.0
	lo, hi := probit(0.001), probit(0.9)
	pos := func(rate float64) float64 {
		p := probit(min(max(rate, 0.001), 0.9))
		return margin + (p-lo)/(hi-lo)*size
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`+"\n", size+2*margin+140, size+2*margin)
	fmt.Fprintf(&b, `<text x="%.0f" y="20" font-size="13">%s</text>`+"\n", margin, escape(title))
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="black"/>`+"\n", margin, margin, size, size)
	for _, t := range []float64{0.001, 0.01, 0.05, 0.2, 0.5, 0.9} {
		x, y := pos(t), size+2*margin-pos(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/><text x="%.1f" y="%.0f" text-anchor="middle">%g%%</text>`+"\n", x, margin, x, margin+size, x, margin+size+15, 100*t)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%g%%</text>`+"\n", margin, y, margin+size, y, margin-4, y+4, 100*t)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">BPCER</text>`+"\n", margin+size/2, size+2*margin-15)
	fmt.Fprintf(&b, `<text x="15" y="%.0f" transform="rotate(-90 15 %.0f)" text-anchor="middle">APCER (PAD)</text>`+"\n", margin+size/2, margin+size/2)
	colours := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"}
	for k, p := range r.Species() {
		v := attacks[p]
		ts := append([]float64{0, 1.000001}, v...)
		ts = append(ts, bona...)
		slices.Sort(ts)
		var pts []string
		for _, t := range ts {
			a, bp := rateAtLeast(v, t), 1-rateAtLeast(bona, t)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", pos(bp), size+2*margin-pos(a)))
		}
		c := colours[k%len(colours)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", c, strings.Join(pts, " "))
		a, bp := rateAtLeast(v, 0.5), 1-rateAtLeast(bona, 0.5)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", pos(bp), size+2*margin-pos(a), c)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="%s">%s</text>`+"\n", margin+size+10, margin+15+15*float64(k), c, p)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">dots: threshold 0.5</text>`+"\n", margin+size+10, margin+30+15*float64(len(r.Species())))
	b.WriteString("</svg>\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("eval: write plot: %w", err)
	}
	return nil
}

// probit is the standard normal quantile.
func probit(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
