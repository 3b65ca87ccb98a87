package cal

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/pst"
)

// Todo converts a task (IPM.Task*) to a VCALENDAR with one VTODO: DTSTART
// and DUE as dates (PidLidTaskStartDate and PidLidTaskDueDate hold the local
// date at midnight), STATUS, PERCENT-COMPLETE, COMPLETED, and a VALARM at
// PidLidReminderTime when a reminder is set.
func Todo(m *pst.Message, opts Options) (*ical.Calendar, error) {
	if m == nil || m.Props == nil || !IsTodo(m.Class()) {
		return nil, fmt.Errorf("cal: todo: %w %q", ErrWrongClass, className(m))
	}
	p := m.Props
	td := itemComponent(ical.CompToDo, m)

	start, hasStart := firstTime(p, id(p, task(lidTaskStartDate)))
	due, hasDue := firstTime(p, id(p, task(lidTaskDueDate)))
	// Rounding to the nearest midnight reads both the usual "local
	// midnight stored as UTC" and a true UTC instant of local midnight.
	sd, dd := allDayDate(start, nil), allDayDate(due, nil)
	if hasStart {
		setDate(td.Props, ical.PropDateTimeStart, sd, false)
	}
	if hasDue {
		d := dd
		if hasStart && d.Before(sd) {
			d = sd
		}
		setDate(td.Props, ical.PropDue, d, false)
	}

	status, hasStatus := p.Int(id(p, task(lidTaskStatus)))
	complete, _ := p.Bool(id(p, task(lidTaskComplete)))
	st := ""
	switch {
	case complete || status == 2:
		st = "COMPLETED"
	case hasStatus && status == 1:
		st = "IN-PROCESS"
	case hasStatus:
		st = "NEEDS-ACTION" // not started, waiting, deferred
	}
	if st != "" {
		td.Props.SetText(ical.PropStatus, st)
	}
	if pc, ok := p.Float(id(p, task(lidPercentComplete))); ok && !math.IsNaN(pc) {
		n := int(math.Round(pc * 100))
		n = max(0, min(100, n))
		td.Props.Set(&ical.Prop{Name: ical.PropPercentComplete, Params: ical.Params{}, Value: strconv.Itoa(n)})
	} else if complete {
		td.Props.Set(&ical.Prop{Name: ical.PropPercentComplete, Params: ical.Params{}, Value: "100"})
	}
	if done, ok := firstTime(p, id(p, task(lidTaskDateCompleted))); ok && (complete || status == 2) {
		td.Props.SetDateTime(ical.PropCompleted, done)
	}
	if !opts.NoAlarms {
		if set, _ := p.Bool(id(p, common(lidReminderSet))); set {
			if rt, ok := firstTime(p, id(p, common(lidReminderTime))); ok {
				td.Children = append(td.Children, alarm(rt.Format(utcFormat), m.Subject()))
			}
		}
	}
	c := newCalendar("")
	c.Children = append(c.Children, td)
	return c, nil
}

// itemComponent starts a VTODO or VJOURNAL with what tasks and journal
// entries share: UID, DTSTAMP, SUMMARY, DESCRIPTION and the common
// properties (see setCommon).
func itemComponent(name string, m *pst.Message) *ical.Component {
	c := ical.NewComponent(name)
	c.Props.SetText(ical.PropUID, UID(m))
	setStamp(c.Props, m.Props)
	setText(c.Props, ical.PropSummary, m.Subject())
	setText(c.Props, ical.PropDescription, body(m.Props))
	setCommon(c.Props, m.Props)
	return c
}

// Journal converts a journal entry (IPM.Activity) to a VCALENDAR with one
// VJOURNAL: DTSTART (PidLidLogStart, UTC), SUMMARY, DESCRIPTION,
// CATEGORIES, X-MS-LOGTYPE (PidLidLogType, e.g. "Phone call") and
// X-MS-LOGDURATION (PidLidLogDuration in minutes, or end − start).
func Journal(m *pst.Message, opts Options) (*ical.Calendar, error) {
	if m == nil || m.Props == nil || !IsJournal(m.Class()) {
		return nil, fmt.Errorf("cal: journal: %w %q", ErrWrongClass, className(m))
	}
	p := m.Props
	j := itemComponent(ical.CompJournal, m)
	start, hasStart := firstTime(p, id(p, logp(lidLogStart)), id(p, common(lidCommonStart)), pst.TagStartDate)
	if hasStart {
		j.Props.SetDateTime(ical.PropDateTimeStart, start)
	}
	setText(j.Props, "X-MS-LOGTYPE", p.String(id(p, logp(lidLogType))))
	dur, hasDur := p.Int(id(p, logp(lidLogDuration)))
	if end, ok := firstTime(p, id(p, logp(lidLogEnd))); !hasDur && ok && hasStart && !end.Before(start) {
		dur, hasDur = int64(end.Sub(start)/time.Minute), true
	}
	if hasDur && dur >= 0 {
		j.Props.Set(&ical.Prop{Name: "X-MS-LOGDURATION", Params: ical.Params{}, Value: strconv.FormatInt(dur, 10)})
	}
	c := newCalendar("")
	c.Children = append(c.Children, j)
	return c, nil
}

// noteColors names PidLidNoteColor values ([MS-OXONOTE] 2.2.1.1).
var noteColors = map[int64]string{0: "blue", 1: "green", 2: "pink", 3: "yellow", 4: "white"}

// NoteText renders a sticky note (IPM.StickyNote) as plain text with LF
// line ends:
//
//	<title>                   subject, else the first line of the body
//	                          (blank line)
//	<body>                    the body, without its first line when that
//	                          repeats the title; omitted when empty
//	                          (blank line, only after a body)
//	Color: <color>            blue, green, pink, yellow, white or the number
//	Created: <RFC 3339 UTC>   PidTagCreationTime, when known
//	Modified: <RFC 3339 UTC>  PidTagLastModificationTime, when known
//
// The text ends with a newline.
func NoteText(m *pst.Message) string {
	if m == nil || m.Props == nil {
		return ""
	}
	p := m.Props
	text := cleanText(p.String(pst.TagBody))
	title := strings.TrimSpace(cleanText(m.Subject()))
	lines := strings.Split(text, "\n")
	if title == "" && text != "" {
		title = strings.TrimSpace(lines[0])
	}
	if text != "" && strings.TrimSpace(lines[0]) == title {
		text = strings.TrimLeft(strings.Join(lines[1:], "\n"), "\n")
	}
	var sb strings.Builder
	sb.WriteString(title)
	sb.WriteString("\n\n")
	if text != "" {
		sb.WriteString(text)
		sb.WriteString("\n\n")
	}
	if c, ok := p.Int(id(p, note(lidNoteColor))); ok {
		name := noteColors[c]
		if name == "" {
			name = strconv.FormatInt(c, 10)
		}
		sb.WriteString("Color: " + name + "\n")
	}
	if t, ok := p.Time(pst.TagCreationTime); ok && validTime(t) {
		sb.WriteString("Created: " + t.UTC().Format(time.RFC3339) + "\n")
	}
	if t, ok := p.Time(pst.TagLastModificationTime); ok && validTime(t) {
		sb.WriteString("Modified: " + t.UTC().Format(time.RFC3339) + "\n")
	}
	return sb.String()
}

func className(m *pst.Message) string {
	if m == nil || m.Props == nil {
		return ""
	}
	return m.Class()
}
