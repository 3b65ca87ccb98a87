package cal

import "github.com/pstsync/pstsync/pst"

// Named property long ids ([MS-OXPROPS]).
const (
	// PSETID_Appointment
	lidAppointmentSequence         = 0x8201
	lidBusyStatus                  = 0x8205
	lidLocation                    = 0x8208
	lidAppointmentStartWhole       = 0x820D
	lidAppointmentEndWhole         = 0x820E
	lidAppointmentSubType          = 0x8215
	lidAppointmentRecur            = 0x8216
	lidAppointmentStateFlags       = 0x8217
	lidResponseStatus              = 0x8218
	lidExceptionReplaceTime        = 0x8228
	lidRecurring                   = 0x8223
	lidTimeZoneStruct              = 0x8233
	lidTimeZoneDescription         = 0x8234
	lidAppointmentTZDefStartDisply = 0x825E
	lidAppointmentTZDefEndDisplay  = 0x825F
	lidAppointmentTZDefRecur       = 0x8260

	// PSETID_Meeting
	lidGlobalObjectID      = 0x0003
	lidCleanGlobalObjectID = 0x0023

	// PSETID_Common
	lidReminderDelta = 0x8501
	lidReminderTime  = 0x8502
	lidReminderSet   = 0x8503
	lidCommonStart   = 0x8516
	lidCommonEnd     = 0x8517

	// PSETID_Task
	lidTaskStatus        = 0x8101
	lidPercentComplete   = 0x8102
	lidTaskStartDate     = 0x8104
	lidTaskDueDate       = 0x8105
	lidTaskDateCompleted = 0x810F
	lidTaskComplete      = 0x811C

	// PSETID_Log
	lidLogType     = 0x8700
	lidLogStart    = 0x8706
	lidLogDuration = 0x8707
	lidLogEnd      = 0x8708

	// PSETID_Note
	lidNoteColor = 0x8B00
)

type named struct {
	set pst.GUID
	lid uint32
}

func appt(lid uint32) named    { return named{pst.PSETIDAppointment, lid} }
func meeting(lid uint32) named { return named{pst.PSETIDMeeting, lid} }
func common(lid uint32) named  { return named{pst.PSETIDCommon, lid} }
func task(lid uint32) named    { return named{pst.PSETIDTask, lid} }
func logp(lid uint32) named    { return named{pst.PSETIDLog, lid} }
func note(lid uint32) named    { return named{pst.PSETIDNote, lid} }

func id(p *pst.Props, n named) uint16 { return p.NamedID(n.set, n.lid) }
