package sink

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"
)

// Files Outlook imports in one step (the file path of a sync, for PCs
// without the live Outlook bridge).
//
// Contacts: Outlook's vCard import reads vCard 2.1 and 3.0 and only the
// first card of a file, so each contact gets its own vCard 3.0 file
// (WriteOutlookVCards); a TEL or URL without TYPE is dropped by Outlook's
// import, so such fields get TYPE=voice / TYPE=work. One Outlook CSV
// (EncodeOutlookCSV) imports them all at once through File > Open &
// Export > Import/Export.
//
// Calendar: Outlook's "Import an iCalendar file" of a METHOD:PUBLISH
// calendar creates new items every time (it does not match UIDs). What
// it matches is an iTIP message: a METHOD:REQUEST calendar with one event
// is correlated with the appointment whose GlobalObjectID the UID (and
// RECURRENCE-ID) names, and a higher SEQUENCE replaces it ([MS-OXCICAL]
// notes on RFC 5546 2.1.5). OutlookImportCalendar prepares such a file:
// METHOD:REQUEST, the item's stable UID (for an item that came from
// Outlook, the UID pst/cal derived from its GlobalObjectID, which Outlook
// matches), SEQUENCE raised to the delivered version so each update
// obsoletes the previous, LAST-MODIFIED and DTSTAMP, and an ORGANIZER
// (required by REQUEST; the item's own, else the given one).

// OutlookImportCalendar returns a copy of c (one event with its
// overrides) prepared for Outlook's import as described above. seq is the
// number of times pstsync delivered this item (1 for the first).
func OutlookImportCalendar(c *ical.Calendar, seq int, organizer string) *ical.Calendar {
	out := ical.NewCalendar()
	for name, ps := range c.Props {
		out.Props[name] = append([]ical.Prop(nil), ps...)
	}
	out.Props.SetText(ical.PropMethod, "REQUEST")
	for _, ch := range c.Children {
		cp := *ch
		cp.Props = ical.Props{}
		for name, ps := range ch.Props {
			cp.Props[name] = append([]ical.Prop(nil), ps...)
		}
		if ch.Name == ical.CompEvent {
			n := seq
			if p := ch.Props.Get(ical.PropSequence); p != nil {
				if old, err := strconv.Atoi(p.Value); err == nil && old >= n {
					n = old + 1
				}
			}
			cp.Props.Set(&ical.Prop{Name: ical.PropSequence, Params: ical.Params{}, Value: strconv.Itoa(n)})
			if cp.Props.Get(ical.PropOrganizer) == nil && organizer != "" {
				cp.Props.Set(&ical.Prop{Name: ical.PropOrganizer, Params: ical.Params{}, Value: "mailto:" + organizer})
			}
			if lm := cp.Props.Get(ical.PropLastModified); lm != nil && cp.Props.Get(ical.PropDateTimeStamp) == nil {
				cp.Props.Set(&ical.Prop{Name: ical.PropDateTimeStamp, Params: ical.Params{}, Value: lm.Value})
			}
		}
		out.Children = append(out.Children, &cp)
	}
	return out
}

// OutlookVCard returns a copy of c as Outlook's vCard import needs it:
// TYPE on every TEL (voice) and URL (work).
func OutlookVCard(c vcard.Card) vcard.Card {
	out := make(vcard.Card, len(c))
	for k, fs := range c {
		for _, f := range fs {
			g := *f
			g.Params = vcard.Params{}
			for pk, pv := range f.Params {
				g.Params[pk] = append([]string(nil), pv...)
			}
			switch k {
			case vcard.FieldTelephone:
				if len(g.Params.Types()) == 0 {
					g.Params.Add(vcard.ParamType, vcard.TypeVoice)
				}
			case vcard.FieldURL:
				if len(g.Params.Types()) == 0 {
					g.Params.Add(vcard.ParamType, vcard.TypeWork)
				}
			}
			out[k] = append(out[k], &g)
		}
	}
	return out
}

// OutlookVCardName is the file name of a card: its name and a short hash
// of its UID, so the same contact always gets the same file.
func OutlookVCardName(c vcard.Card) string {
	h := sha256.Sum256([]byte(c.Value(vcard.FieldUID)))
	name := SafeName(c.Value(vcard.FieldFormattedName))
	if name == "" {
		name = "contact"
	}
	return name + "_" + hex.EncodeToString(h[:4]) + ".vcf"
}

// WriteOutlookVCards writes each card as its own vCard 3.0 file in dir
// (atomically) and returns the paths.
func WriteOutlookVCards(dir string, cards []vcard.Card) ([]string, error) {
	var out []string
	for _, c := range cards {
		var b bytes.Buffer
		if err := EncodeVCard(&b, OutlookVCard(c), VCard30); err != nil {
			return out, fmt.Errorf("sink: outlook vcard %q: %w", c.Value(vcard.FieldFormattedName), err)
		}
		p := filepath.Join(dir, OutlookVCardName(c))
		if err := WriteFileAtomic(p, b.Bytes()); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}
