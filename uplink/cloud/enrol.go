package cloud

import (
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// enrol enrols the palms of caps (one or both, several captures each) with
// the request's phone and card under a new subject. Of each palm's
// captures it keeps the one that agrees best with the others (the highest
// sum of match.Similarity to them): a capture whose palm region was
// misplaced agrees with none and is not kept. Captures of one palm that
// agree with none of the others, or two palms that are the same palm, are
// a retry; a palm already enrolled is declined "duplicate_palm".
func (c *Cloud) enrol(req wire.Request, caps []handTemplate) wire.Decision {
	phone, err := c.token(c.cfg.Seal, req, seal.PartPhone)
	if err != nil {
		return wire.Decision{Outcome: wire.Declined, Reason: "phone_unreadable"}
	}
	card, err := c.token(c.cfg.Payment, req, seal.PartCard)
	if err != nil {
		return wire.Decision{Outcome: wire.Declined, Reason: "card_unreadable"}
	}
	var palms []match.Template
	for _, h := range []wire.Hand{wire.Left, wire.Right} {
		var of []match.Template
		for _, cp := range caps {
			if cp.hand == h {
				of = append(of, cp.tmpl)
			}
		}
		if len(of) == 0 {
			continue
		}
		best, ok := mostAgreeing(of)
		if !ok {
			return wire.Decision{Outcome: wire.Retry, Reason: "captures_disagree"}
		}
		palms = append(palms, best)
	}
	if len(palms) == 2 && match.Similarity(palms[0], palms[1]) >= match.Threshold {
		return wire.Decision{Outcome: wire.Retry, Reason: "same_palm"}
	}
	for _, p := range palms {
		if _, ok := c.search(p); ok {
			return wire.Decision{Outcome: wire.Declined, Reason: "duplicate_palm"}
		}
	}
	subject := newSubject()
	if err := c.store.put(subject, c.rest.seal(subject, record{palms: palms, phone: phone, card: card})); err != nil {
		c.log.Error("cloud: enrolment not stored", "device", req.Device, "request", req.ID, "err", err)
		return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
	}
	c.add(subject, palms, factors{phone: phone, card: card})
	return wire.Decision{Outcome: wire.Approved, Subject: subject, Reason: "enrolled"}
}

// mostAgreeing returns the template of ts (captures of one palm) with the
// highest sum of similarities to the others; ok is false when it matches
// none of them (two or more captures that are not one palm). The first
// wins a tie.
func mostAgreeing(ts []match.Template) (best match.Template, ok bool) {
	if len(ts) == 1 {
		return ts[0], true
	}
	sim := make([][]float64, len(ts))
	for i := range ts {
		sim[i] = make([]float64, len(ts))
		for j := range i {
			sim[i][j] = match.Similarity(ts[i], ts[j])
			sim[j][i] = sim[i][j]
		}
	}
	at, top := 0, -1.0
	for i := range ts {
		sum := 0.0
		for j := range ts {
			sum += sim[i][j]
		}
		if sum > top {
			at, top = i, sum
		}
	}
	for j := range ts {
		if j != at && sim[at][j] >= match.Threshold {
			return ts[at], true
		}
	}
	return match.Template{}, false
}
