// Package sink writes standard objects (iCalendar, vCard, RFC 5322 mail in
// EML, mbox or Maildir layout) to files for `pstsync export`.
//
// Every file is written atomically (see WriteFileAtomic): data goes to a
// temporary file in the destination directory, is fsynced and then renamed
// over the final name, so a crash never leaves a half-written file under a
// final name, and re-running an export into the same directory overwrites
// the previous result instead of appending duplicates.
//
// Encoders:
//
//   - EncodeICS writes an *ical.Calendar (github.com/emersion/go-ical) with
//     CRLF line endings and lines folded at 75 octets without splitting UTF-8
//     sequences. go-ical's own encoder neither folds nor accepts arbitrary
//     component trees, so sink has its own small encoder over ical.Component.
//     Property values are written as given: ical.Prop.Value holds the encoded
//     form, so TEXT values must be set with EscapeICSText (or go-ical's
//     Prop.SetText, which escapes correctly but keeps CR and control
//     characters).
//   - EncodeVCard writes a vcard.Card (github.com/emersion/go-vcard) as vCard
//     4.0 or 3.0. go-vcard's encoder escapes every comma (breaking PHOTO data
//     URIs and CATEGORIES lists) and does not fold; sink has its own encoder
//     with per-property value kinds. See EncodeVCard for the conventions of
//     Field.Value that callers must follow.
//
// Mail writers implement MailWriter; see NewEMLWriter, NewMboxWriter and
// NewMaildirWriter for the on-disk layouts.
package sink
