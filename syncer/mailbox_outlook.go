package syncer

import (
	"bytes"
	"fmt"
	"path"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/sink"
)

// OutlookImportDir is the folder under incoming/ with what Outlook imports
// in one step (issue 11): "NNNNNN-outlook" per revision, holding each new
// or changed contact as its own vCard 3.0 file (contacts/), all of them in
// one Outlook CSV (contacts.csv), and each new or changed event as its own
// METHOD:REQUEST file (calendar/) that Outlook matches by UID and
// SEQUENCE, so importing it again updates the appointment instead of
// adding a second one.
const OutlookImportDir = "outlook"

// outlookImports writes the Outlook import files of the incoming items
// (their canonical bytes). An item that cannot be decoded is left out of
// them (it is in the plain incoming files).
func (w *mailboxWriter) outlookImports(rev int64, calIn, conIn [][]byte) error {
	dir := path.Join(IncomingDir, fmt.Sprintf("%06d-%s", rev, OutlookImportDir))
	seq := int(rev)
	for _, data := range calIn {
		c, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			continue
		}
		uid := ""
		for _, ch := range c.Children {
			if ch.Name == ical.CompEvent {
				uid, _ = ch.Props.Text(ical.PropUID)
				break
			}
		}
		var b bytes.Buffer
		if err := sink.EncodeICS(&b, sink.OutlookImportCalendar(c, seq, "")); err != nil {
			continue
		}
		if err := w.file(path.Join(dir, "calendar", FileName(uid)+".ics"), b.Bytes()); err != nil {
			return err
		}
	}
	var cards []vcard.Card
	for _, data := range conIn {
		card, err := vcard.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			continue
		}
		var b bytes.Buffer
		if err := sink.EncodeVCard(&b, sink.OutlookVCard(card), sink.VCard30); err != nil {
			continue
		}
		if err := w.file(path.Join(dir, "contacts", sink.OutlookVCardName(card)), b.Bytes()); err != nil {
			return err
		}
		cards = append(cards, card)
	}
	if len(cards) > 0 {
		var b bytes.Buffer
		if err := sink.EncodeOutlookCSV(&b, cards); err != nil {
			return fmt.Errorf("syncer: mailbox: %w", err)
		}
		if err := w.file(path.Join(dir, "contacts.csv"), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
