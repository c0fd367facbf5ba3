package cloud

import (
	"github.com/palmd/palmd/uplink/seal"
	"github.com/palmd/palmd/uplink/wire"
	"github.com/palmd/palmd/vision/match"
)

// enrol enrols the palms of caps (one or both, several captures each) with
// the request's phone and card under a new subject. Of each palm's
// captures it keeps every one that agrees (match.Threshold) with another
// of the same palm, normally all three: a capture whose palm region was
// misplaced agrees with none and is dropped, and a probe is then compared
// with each kept one through the index, as match.BestSimilarity compares
// a probe with an enrolment (a fresh enrolment is recognised at once).
// Captures of one palm none of which agree, or two palms that match each
// other, are a retry; a palm already enrolled is declined
// "duplicate_palm".
func (c *Cloud) enrol(req wire.Request, caps []handTemplate) wire.Decision {
	phone, err := c.token(c.cfg.Seal, req, seal.PartPhone)
	if err != nil {
		return wire.Decision{Outcome: wire.Declined, Reason: "phone_unreadable"}
	}
	card, err := c.token(c.cfg.Payment, req, seal.PartCard)
	if err != nil {
		return wire.Decision{Outcome: wire.Declined, Reason: "card_unreadable"}
	}
	var kept [][]match.Template // per palm
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
		agree := agreeing(of)
		if len(agree) == 0 {
			return wire.Decision{Outcome: wire.Retry, Reason: "captures_disagree"}
		}
		kept = append(kept, agree)
	}
	if len(kept) == 2 {
		for _, l := range kept[0] {
			for _, r := range kept[1] {
				if match.Similarity(l, r) >= match.Threshold {
					return wire.Decision{Outcome: wire.Retry, Reason: "same_palm"}
				}
			}
		}
	}
	var tmpls []match.Template
	for _, k := range kept {
		tmpls = append(tmpls, k...)
	}
	for _, t := range tmpls {
		if _, ok := c.search(probe{tmpl: t}); ok {
			return wire.Decision{Outcome: wire.Declined, Reason: "duplicate_palm"}
		}
	}
	subject := newSubject()
	if err := c.store.put(subject, c.rest.seal(subject, record{palms: tmpls, phone: phone, card: card})); err != nil {
		c.log.Error("cloud: enrolment not stored", "device", req.Device, "request", req.ID, "err", err)
		return wire.Decision{Outcome: wire.Retry, Reason: "store_unavailable"}
	}
	c.add(subject, tmpls, factors{phone: phone, card: card})
	return wire.Decision{Outcome: wire.Approved, Subject: subject, Reason: "enrolled"}
}

// agreeing returns the templates of ts (captures of one palm) that match
// at least one other of them; a single capture is kept as it is. None
// means two or more captures that are not one palm.
func agreeing(ts []match.Template) []match.Template {
	if len(ts) == 1 {
		return ts
	}
	var out []match.Template
	for i := range ts {
		for j := range ts {
			if i != j && match.Similarity(ts[i], ts[j]) >= match.Threshold {
				out = append(out, ts[i])
				break
			}
		}
	}
	return out
}
