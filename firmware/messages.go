package firmware

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Languages the kiosk's screens are written in, the first the default.
// Config's "language" picks one.
var languages = []language.Tag{language.English, language.German}

// Languages returns the language tags a kiosk can be configured with.
func Languages() []string {
	s := make([]string, len(languages))
	for i, t := range languages {
		s[i] = t.String()
	}
	return s
}

// messages is every sentence on a screen, by key, in each of languages (in
// order). A screen's title and body are "<screen>.title" and
// "<screen>.body"; other keys are parts several screens use. Arguments
// are fmt verbs.
var messages = map[string][]string{
	"idle.title": {"Hover your palm", "Hand über den Scanner halten"},
	"idle.body": {"Hold your hand flat above the scanner.\nNew here? Insert your card to sign up.",
		"Halten Sie die Hand flach über den Scanner.\nNeu hier? Stecken Sie Ihre Karte ein."},
	"hover.title": {"Now hover your palm", "Jetzt die Hand darüber halten"},
	"hover.body": {"Hold your hand flat, about a hand's width above the scanner.\nTo sign up both palms, press 2.",
		"Halten Sie die Hand flach, etwa eine Handbreit über dem Scanner.\nFür beide Hände drücken Sie 2."},
	"hover_left.title": {"Left palm first", "Zuerst die linke Hand"},
	"hover_left.body": {"Hover your left palm; your right palm comes next.\nFor one palm only, press 1.",
		"Halten Sie die linke Hand darüber, danach die rechte.\nNur eine Hand: drücken Sie 1."},
	"hover_right.title": {"Now your right palm", "Jetzt die rechte Hand"},
	"hover_right.body": {"Take your left hand away, then hover your right palm.",
		"Nehmen Sie die linke Hand weg und halten Sie die rechte darüber."},
	"palm_again.title": {"Once more (%d of %d)", "Noch einmal (%d von %d)"},
	"palm_again.body": {"Take your hand away, then hover it again.",
		"Nehmen Sie die Hand kurz weg und halten Sie sie wieder darüber."},
	"delete_hover.title": {"Delete your data", "Ihre Daten löschen"},
	"delete_hover.body": {"Hover the palm you signed up with, so we can find your data.",
		"Halten Sie die registrierte Hand über den Scanner, damit wir Ihre Daten finden."},
	"scanning.title":   {"Hand seen", "Hand erkannt"},
	"scanning.body":    {"Keep it flat and still over the target.", "Halten Sie sie flach und ruhig über dem Ziel."},
	"checking.title":   {"Checking", "Wird geprüft"},
	"checking.body":    {"You can take your hand away.", "Sie können die Hand wegnehmen."},
	"move_lower.title": {"Move lower", "Tiefer halten"},
	"move_lower.body": {"Your hand is too far away: bring it closer to the scanner.",
		"Ihre Hand ist zu weit weg: näher an den Scanner."},
	"move_higher.title": {"Move higher", "Höher halten"},
	"move_higher.body": {"Your hand is too close: raise it a little.",
		"Ihre Hand ist zu nah: etwas anheben."},
	"move_centre.title": {"Move to the centre", "Zur Mitte bewegen"},
	"move_centre.body": {"Move your hand over the middle of the target.",
		"Bewegen Sie die Hand über die Mitte des Ziels."},
	"hold_still.title": {"Hold still", "Ruhig halten"},
	"hold_still.body":  {"Keep your hand flat and steady for a moment.", "Halten Sie die Hand einen Moment flach und ruhig."},
	"hold_flat.title":  {"Hold your palm flat", "Handfläche flach halten"},
	"hold_flat.body": {"The light glares off your palm: hold it flat and a little higher.",
		"Das Licht blendet auf Ihrer Hand: halten Sie sie flach und etwas höher."},
	"shade.title":        {"Too much light", "Zu viel Licht"},
	"shade.body":         {"Shade the scanner from direct light.", "Schirmen Sie den Scanner vor direktem Licht ab."},
	"face_scanner.title": {"Palm down, please", "Handfläche nach unten"},
	"face_scanner.body": {"Open your hand and turn the palm towards the scanner.",
		"Öffnen Sie die Hand, die Handfläche zum Scanner."},
	"show_palm.title": {"Where is your hand?", "Wo ist Ihre Hand?"},
	"show_palm.body":  {"Hold your open palm over the target.", "Halten Sie die offene Hand über das Ziel."},
	"approved.title":  {"Welcome", "Willkommen"},
	"approved.body":   {"Please go ahead.", "Bitte gehen Sie weiter."},
	"enrolled.title":  {"You're signed up", "Sie sind registriert"},
	"enrolled.body":   {"Next time, just hover your palm.", "Nächstes Mal einfach die Hand darüber halten."},
	"deleted.title":   {"Your data is deleted", "Ihre Daten sind gelöscht"},
	"deleted.body": {"We no longer hold your palm, card or phone number.",
		"Wir speichern Ihre Hand, Karte und Telefonnummer nicht mehr."},
	"no_data.title":        {"No data found", "Keine Daten gefunden"},
	"no_data.body":         {"We hold no data for this palm.", "Zu dieser Hand speichern wir keine Daten."},
	"not_recognized.title": {"Palm not recognised", "Hand nicht erkannt"},
	"not_recognized.body":  {"New here? Insert your card to sign up.", "Neu hier? Stecken Sie Ihre Karte ein."},
	"spoof_rejected.title": {"We couldn't verify your palm", "Hand nicht bestätigt"},
	"spoof_rejected.body":  {"Please ask a member of staff.", "Bitte wenden Sie sich an das Personal."},
	"declined.title":       {"Not accepted", "Nicht angenommen"},
	"declined.body":        {"Please ask a member of staff.", "Bitte wenden Sie sich an das Personal."},
	"retry.title":          {"Let's try again", "Noch einmal bitte"},
	"retry.body":           {"Take your hand away and hover it again.", "Nehmen Sie die Hand weg und halten Sie sie erneut darüber."},
	"confirm_delete.title": {"Delete your palm data?", "Handdaten löschen?"},
	"confirm_delete.body": {"Press Enter to delete it from our service.\nPress Cancel to keep it.",
		"Enter löscht sie aus unserem Dienst.\nAbbrechen behält sie."},
	"kept.title":           {"Nothing was deleted", "Nichts wurde gelöscht"},
	"kept.body":            {"Your palm data is unchanged.", "Ihre Handdaten sind unverändert."},
	"out_of_service.title": {"Out of service", "Außer Betrieb"},
	"out_of_service.body": {"This kiosk is being fixed. Please use another one.",
		"Dieses Terminal wird repariert. Bitte nutzen Sie ein anderes."},
	"not_provisioned.title": {"Not set up yet", "Noch nicht eingerichtet"},
	"not_provisioned.body": {"This kiosk is waiting to be set up by a technician.",
		"Dieses Terminal wartet auf die Einrichtung durch einen Techniker."},
	"maintenance.title": {"Maintenance", "Wartung"},
	"maintenance.body": {"A technician is working on this kiosk. Please use another one.",
		"Ein Techniker arbeitet an diesem Terminal. Bitte nutzen Sie ein anderes."},
	"updating.title": {"Updating", "Aktualisierung"},
	"updating.body": {"This kiosk is installing an update and will be back in a few minutes.",
		"Dieses Terminal installiert ein Update und ist in wenigen Minuten zurück."},
	"reinsert_card.title": {"Please insert your card again", "Bitte Karte erneut einstecken"},
	"reinsert_card.body": {"Take your card out, then insert it again to sign up.\nOr hover your palm.",
		"Nehmen Sie die Karte heraus und stecken Sie sie erneut ein.\nOder halten Sie die Hand darüber."},
	"card_unreadable.title": {"Card not read", "Karte nicht gelesen"},
	"card_unreadable.body": {"Take your card out and insert it again, chip first.",
		"Nehmen Sie die Karte heraus und stecken Sie sie mit dem Chip voran erneut ein."},
	"enter_phone.title": {"Card %s read", "Karte %s gelesen"},
	"enter_phone.body": {"Type your phone number with its area code, 7 to 15 digits, then press Enter.\n%s",
		"Geben Sie Ihre Telefonnummer mit Vorwahl ein, 7 bis 15 Ziffern, dann Enter.\n%s"},
	"phone_too_short.title": {"Number too short", "Nummer zu kurz"},
	"phone_too_short.body": {"A phone number has at least 7 digits: you typed %d.\n%s",
		"Eine Telefonnummer hat mindestens 7 Ziffern, Sie haben %d eingegeben.\n%s"},
	"delete_factor.title": {"Confirm it's you", "Bestätigen Sie, dass Sie es sind"},
	"delete_factor.body": {"Insert the card you signed up with,\nor type your phone number and press Enter.\n%s",
		"Stecken Sie die Karte ein, mit der Sie sich registriert haben,\noder geben Sie Ihre Telefonnummer ein und drücken Sie Enter.\n%s"},
	"locked_out.title":   {"Too many attempts", "Zu viele Versuche"},
	"locked_out.body":    {"Please try again in %d seconds.", "Bitte versuchen Sie es in %d Sekunden erneut."},
	"pay.title":          {"Pay by palm", "Mit der Hand bezahlen"},
	"pay.body":           {"Hover your palm to pay.\nPress Cancel to cancel.", "Halten Sie die Hand darüber, um zu bezahlen.\nAbbrechen bricht ab."},
	"paid.title":         {"Paid", "Bezahlt"},
	"paid.body":          {"Thank you.", "Vielen Dank."},
	"pay_declined.title": {"Payment declined", "Zahlung abgelehnt"},
	"pay_declined.body":  {"Please pay another way.", "Bitte bezahlen Sie anders."},
	"loyalty.title":      {"Collect your points", "Punkte sammeln"},
	"loyalty.body": {"Hover your palm to show your loyalty card.\nPress Cancel to skip.",
		"Halten Sie die Hand darüber, um Ihre Kundenkarte zu zeigen.\nAbbrechen überspringt."},
	"loyalty_found.title": {"Points collected", "Punkte gesammelt"},
	"loyalty_found.body":  {"Thank you.", "Vielen Dank."},
	"age_check.title":     {"Age check: over %d", "Altersprüfung: über %d"},
	"age_check.body": {"Hover your palm to confirm your age.\nPress Cancel to skip.",
		"Halten Sie die Hand darüber, um Ihr Alter zu bestätigen.\nAbbrechen überspringt."},
	"age_ok.title":       {"Age confirmed", "Alter bestätigt"},
	"age_ok.body":        {"Thank you.", "Vielen Dank."},
	"age_not_ok.title":   {"Age not confirmed", "Alter nicht bestätigt"},
	"age_not_ok.body":    {"Please ask a member of staff.", "Bitte wenden Sie sich an das Personal."},
	"app_enrolled.title": {"You're all set", "Alles erledigt"},
	"app_enrolled.body": {"Your sign-up from the app is complete.\nNext time, just hover your palm.",
		"Ihre Registrierung aus der App ist abgeschlossen.\nNächstes Mal einfach die Hand darüber halten."},
	"time_left": {"%d s left", "noch %d s"},
}

// texts writes the screens in one language.
type texts struct{ p *message.Printer }

// newTexts returns the screens' texts in lang (a BCP 47 tag; "" is the
// default), or an error naming the languages there are.
func newTexts(lang string) (*texts, error) {
	tag := languages[0]
	if lang != "" {
		i := slices.IndexFunc(languages, func(t language.Tag) bool { return t.String() == lang })
		if i < 0 {
			return nil, fmt.Errorf("firmware: language %q: want one of %s", lang, strings.Join(Languages(), ", "))
		}
		tag = languages[i]
	}
	b := catalog.NewBuilder(catalog.Fallback(languages[0]))
	for key, tr := range messages {
		for i, t := range languages {
			if err := b.SetString(t, key, tr[i]); err != nil {
				return nil, fmt.Errorf("firmware: message %q in %s: %w", key, t, err)
			}
		}
	}
	return &texts{p: message.NewPrinter(tag, message.Catalog(b))}, nil
}

// get is the message key in the kiosk's language, formatted with args.
func (t *texts) get(key string, args ...any) string { return t.p.Sprintf(key, args...) }
