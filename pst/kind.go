package pst

import "strings"

// Kind is the broad category of an item, from its message class.
type Kind string

// Kinds.
const (
	KindMail        Kind = "mail"
	KindContact     Kind = "contact"
	KindDistList    Kind = "distlist"
	KindAppointment Kind = "appointment"
	KindTask        Kind = "task"
	KindJournal     Kind = "journal"
	KindNote        Kind = "note"
	KindOther       Kind = "other"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{KindMail, KindContact, KindDistList, KindAppointment, KindTask, KindJournal, KindNote, KindOther}

// KindOf classifies a message class (case-insensitive, as Outlook
// compares them). Meeting requests and task requests are mail: they travel
// as messages.
func KindOf(class string) Kind {
	c := strings.ToUpper(class)
	has := func(p string) bool { return strings.HasPrefix(c, p) && (len(c) == len(p) || c[len(p)] == '.') }
	switch {
	case c == "":
		return KindMail
	case has("IPM.CONTACT"):
		return KindContact
	case has("IPM.DISTLIST"):
		return KindDistList
	case has("IPM.APPOINTMENT"):
		return KindAppointment
	case has("IPM.TASK"):
		return KindTask
	case has("IPM.ACTIVITY"):
		return KindJournal
	case has("IPM.STICKYNOTE"):
		return KindNote
	case has("IPM.NOTE"), has("IPM.POST"), has("IPM.SCHEDULE"), has("IPM.TASKREQUEST"),
		has("REPORT"), has("IPM.OUTLOOK.RECALL"), has("IPM.RECALL"), has("IPM.DOCUMENT"),
		has("IPM.SHARING"), has("IPM.SMIME"), has("IPM.NOTE.SMIME"), c == "IPM":
		return KindMail
	}
	return KindOther
}
