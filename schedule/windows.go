package schedule

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"
)

// TaskNamespace is the Task Scheduler XML namespace.
const TaskNamespace = "http://schemas.microsoft.com/windows/2004/02/mit/task"

// Task is a Task Scheduler task definition (schema version 1.2, Windows 7
// and later). Field order is element order: the trigger types are
// xs:sequence in the schema (order matters), the others xs:all.
type Task struct {
	XMLName          xml.Name         `xml:"Task"`
	Version          string           `xml:"version,attr"`
	Xmlns            string           `xml:"xmlns,attr"`
	RegistrationInfo RegistrationInfo `xml:"RegistrationInfo"`
	Triggers         Triggers         `xml:"Triggers"`
	Principals       Principals       `xml:"Principals"`
	Settings         Settings         `xml:"Settings"`
	Actions          Actions          `xml:"Actions"`
}

// RegistrationInfo names the task for people.
type RegistrationInfo struct {
	Author      string `xml:"Author"`
	Description string `xml:"Description"`
}

// Triggers start the task: every Every from Start, and at logon.
type Triggers struct {
	TimeTrigger  *TimeTrigger  `xml:"TimeTrigger"`
	LogonTrigger *LogonTrigger `xml:"LogonTrigger"`
}

// TimeTrigger fires at StartBoundary and then every Repetition.Interval.
type TimeTrigger struct {
	Enabled       bool        `xml:"Enabled"`
	StartBoundary string      `xml:"StartBoundary"`
	Repetition    *Repetition `xml:"Repetition"`
	RandomDelay   string      `xml:"RandomDelay"`
}

// Repetition without Duration repeats indefinitely.
type Repetition struct {
	Interval          string `xml:"Interval"`
	StopAtDurationEnd bool   `xml:"StopAtDurationEnd"`
}

// LogonTrigger fires when UserID logs on, after Delay.
type LogonTrigger struct {
	Enabled bool   `xml:"Enabled"`
	UserID  string `xml:"UserId"`
	Delay   string `xml:"Delay"`
}

// Principals holds the one principal the task runs as.
type Principals struct {
	Principal Principal `xml:"Principal"`
}

// Principal: the current user, with the interactive token (the task runs
// while the user is logged on, has their network drives and credentials,
// and needs no stored password) and least privilege.
type Principal struct {
	ID        string `xml:"id,attr"`
	UserID    string `xml:"UserId"`
	LogonType string `xml:"LogonType"`
	RunLevel  string `xml:"RunLevel"`
}

// Settings of the task.
type Settings struct {
	MultipleInstancesPolicy    string           `xml:"MultipleInstancesPolicy"`
	DisallowStartIfOnBatteries bool             `xml:"DisallowStartIfOnBatteries"`
	StopIfGoingOnBatteries     bool             `xml:"StopIfGoingOnBatteries"`
	AllowHardTerminate         bool             `xml:"AllowHardTerminate"`
	StartWhenAvailable         bool             `xml:"StartWhenAvailable"`
	RunOnlyIfNetworkAvailable  bool             `xml:"RunOnlyIfNetworkAvailable"`
	AllowStartOnDemand         bool             `xml:"AllowStartOnDemand"`
	Enabled                    bool             `xml:"Enabled"`
	Hidden                     bool             `xml:"Hidden"`
	RunOnlyIfIdle              bool             `xml:"RunOnlyIfIdle"`
	WakeToRun                  bool             `xml:"WakeToRun"`
	ExecutionTimeLimit         string           `xml:"ExecutionTimeLimit"`
	Priority                   int              `xml:"Priority"`
	RestartOnFailure           RestartOnFailure `xml:"RestartOnFailure"`
}

// RestartOnFailure retries a failed run Count times, Interval apart.
type RestartOnFailure struct {
	Interval string `xml:"Interval"`
	Count    int    `xml:"Count"`
}

// Actions holds the one program the task runs.
type Actions struct {
	Context string     `xml:"Context,attr"`
	Exec    ExecAction `xml:"Exec"`
}

// ExecAction is the Exec action (the program the task starts).
type ExecAction struct {
	Command          string `xml:"Command"`
	Arguments        string `xml:"Arguments,omitempty"`
	WorkingDirectory string `xml:"WorkingDirectory,omitempty"`
}

// ConhostPath is the console host used to run a console program without a
// window (conhost --headless, Windows 10 1809 and later).
const ConhostPath = `%SystemRoot%\System32\conhost.exe`

// Command returns the program and argument string the task starts.
//
// A console program (pstsync.exe) started by Task Scheduler in the user's
// session gets a console window that flashes up every run. Two ways avoid
// it: run a GUI-subsystem build (pstsyncw.exe, linked with -H windowsgui:
// Windows creates no console for it; output goes to the log file anyway),
// which is what Console=false means; or start the console program through
// `conhost.exe --headless`, which gives it a console that is never shown
// (Console=true, the fallback when pstsyncw.exe is not installed).
func (s Spec) Command() (string, string) {
	args := make([]string, 0, len(s.Args)+2)
	cmd := s.Exe
	if s.Console {
		cmd = ConhostPath
		args = append(args, "--headless", s.Exe)
	}
	args = append(args, s.Args...)
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = WindowsQuote(a)
	}
	return cmd, strings.Join(q, " ")
}

// NewTask builds the Task Scheduler definition of s.
func NewTask(s Spec) (*Task, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if s.UserID == "" {
		return nil, fmt.Errorf("no Windows user for the task")
	}
	cmd, args := s.Command()
	desc := s.Description
	if desc == "" {
		desc = "Runs pstsync every " + HumanDuration(s.Every) + " to sync the shared calendar and contacts."
	}
	start := s.Start
	if start.IsZero() {
		start = timeNow().Truncate(s.Every)
	}
	limit := 4 * s.Every
	if limit < 30*time.Minute {
		limit = 30 * time.Minute
	}
	return &Task{
		Version: "1.2",
		Xmlns:   TaskNamespace,
		RegistrationInfo: RegistrationInfo{
			Author:      s.UserID,
			Description: desc,
		},
		Triggers: Triggers{
			TimeTrigger: &TimeTrigger{
				Enabled:       true,
				StartBoundary: start.Format("2006-01-02T15:04:05"),
				Repetition:    &Repetition{Interval: isoDuration(s.Every)},
				RandomDelay:   "PT1M", // N PCs do not all hit the store in the same second
			},
			LogonTrigger: &LogonTrigger{Enabled: true, UserID: s.UserID, Delay: "PT2M"},
		},
		Principals: Principals{Principal{ID: "Author", UserID: s.UserID, LogonType: "InteractiveToken", RunLevel: "LeastPrivilege"}},
		Settings: Settings{
			MultipleInstancesPolicy:    "IgnoreNew", // never a second copy while one runs
			DisallowStartIfOnBatteries: false,
			StopIfGoingOnBatteries:     false,
			AllowHardTerminate:         true,
			StartWhenAvailable:         true, // a run missed while asleep happens on wake-up
			RunOnlyIfNetworkAvailable:  false,
			AllowStartOnDemand:         true,
			Enabled:                    true,
			Hidden:                     false,
			RunOnlyIfIdle:              false,
			WakeToRun:                  false,
			ExecutionTimeLimit:         isoDuration(limit),
			Priority:                   7, // below normal
			RestartOnFailure:           RestartOnFailure{Interval: "PT5M", Count: 3},
		},
		Actions: Actions{Context: "Author", Exec: ExecAction{Command: cmd, Arguments: args, WorkingDirectory: s.WorkDir}},
	}, nil
}

// TaskXML is the task definition as UTF-8 XML (readable, for golden files).
func TaskXML(s Spec) ([]byte, error) {
	t, err := NewTask(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

// TaskXMLUTF16 is the task definition the way schtasks /XML expects it:
// UTF-16LE with a byte-order mark and a matching declaration, CRLF lines.
func TaskXMLUTF16(s Spec) ([]byte, error) {
	x, err := TaskXML(s)
	if err != nil {
		return nil, err
	}
	text := strings.Replace(string(x), `encoding="UTF-8"`, `encoding="UTF-16"`, 1)
	text = strings.ReplaceAll(text, "\n", "\r\n")
	u := utf16.Encode([]rune(text))
	out := make([]byte, 2, 2+2*len(u))
	binary.LittleEndian.PutUint16(out, 0xFEFF)
	for _, c := range u {
		out = binary.LittleEndian.AppendUint16(out, c)
	}
	return out, nil
}

// WindowsQuote quotes one argument the way CommandLineToArgvW and the Go
// runtime split it back (the rules of syscall.EscapeArg).
func WindowsQuote(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// Install registers the task for the current user (replacing one of the
// same name): it writes the UTF-16 XML to a temporary file and runs
// schtasks /Create /TN NAME /XML FILE /F.
func Install(ctx context.Context, run Runner, s Spec) error {
	x, err := TaskXMLUTF16(s)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "pstsync-task-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, s.Slug()+".xml")
	if err := os.WriteFile(file, x, 0o600); err != nil {
		return err
	}
	_, err = run(ctx, "schtasks", "/Create", "/TN", s.Name, "/XML", file, "/F")
	return err
}

// Remove deletes the task.
func Remove(ctx context.Context, run Runner, name string) error {
	_, err := run(ctx, "schtasks", "/Delete", "/TN", name, "/F")
	return err
}

// Status returns schtasks' description of the task (last run, result, next
// run).
func Status(ctx context.Context, run Runner, name string) ([]byte, error) {
	return run(ctx, "schtasks", "/Query", "/TN", name, "/V", "/FO", "LIST")
}
