package schedule

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var timeNow = time.Now

// SystemdUnits returns a systemd user service and timer (install them in
// ~/.config/systemd/user/ as Slug().service and Slug().timer). The timer
// counts from the end of the previous run (OnUnitInactiveSec), and systemd
// never starts a oneshot service that is still running, so runs never
// overlap.
func SystemdUnits(s Spec) (service, timer string, err error) {
	if err := s.Check(); err != nil {
		return "", "", err
	}
	words := make([]string, 0, len(s.Args)+1)
	for _, a := range append([]string{s.Exe}, s.Args...) {
		words = append(words, systemdQuote(a))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\nWants=network-online.target\nAfter=network-online.target\n\n", s.Name)
	fmt.Fprintf(&b, "[Service]\nType=oneshot\nExecStart=%s\n", strings.Join(words, " "))
	if s.WorkDir != "" {
		fmt.Fprintf(&b, "WorkingDirectory=%s\n", systemdQuote(s.WorkDir))
	}
	if len(s.OKExitCodes) > 0 {
		codes := make([]string, len(s.OKExitCodes))
		for i, c := range s.OKExitCodes {
			codes[i] = strconv.Itoa(c)
		}
		fmt.Fprintf(&b, "# not failures: conflicts pending, PST locked, already running\nSuccessExitStatus=%s\n", strings.Join(codes, " "))
	}
	b.WriteString("Nice=10\nIOSchedulingClass=idle\n")
	service = b.String()

	b.Reset()
	fmt.Fprintf(&b, "[Unit]\nDescription=Run %s every %s\n\n", s.Name, HumanDuration(s.Every))
	fmt.Fprintf(&b, "[Timer]\nOnActiveSec=1min\nOnStartupSec=2min\nOnUnitInactiveSec=%s\nRandomizedDelaySec=30s\nUnit=%s.service\n\n", HumanDuration(s.Every), s.Slug())
	b.WriteString("[Install]\nWantedBy=timers.target\n")
	return service, b.String(), nil
}

// systemdQuote quotes a word of ExecStart: specifiers (%) and variables
// ($) are escaped, words with spaces or quotes double-quoted.
func systemdQuote(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// HumanDuration renders whole minutes as "15m", "2h", "1h30m", "36h"
// (understood by systemd and people).
func HumanDuration(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// LaunchdLabel is the launchd job label for s.
func LaunchdLabel(s Spec) string { return "org.pstsync." + s.Slug() }

// LaunchdPlist returns a launchd agent (~/Library/LaunchAgents/LABEL.plist).
// launchd never starts a job that is still running.
func LaunchdPlist(s Spec) (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	esc := func(v string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(v))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
`)
	fmt.Fprintf(&b, "  <key>Label</key>\n  <string>%s</string>\n", esc(LaunchdLabel(s)))
	b.WriteString("  <key>ProgramArguments</key>\n  <array>\n")
	for _, a := range append([]string{s.Exe}, s.Args...) {
		fmt.Fprintf(&b, "    <string>%s</string>\n", esc(a))
	}
	b.WriteString("  </array>\n")
	if s.WorkDir != "" {
		fmt.Fprintf(&b, "  <key>WorkingDirectory</key>\n  <string>%s</string>\n", esc(s.WorkDir))
	}
	fmt.Fprintf(&b, "  <key>StartInterval</key>\n  <integer>%d</integer>\n", int(s.Every/time.Second))
	b.WriteString("  <key>RunAtLoad</key>\n  <true/>\n")
	b.WriteString("  <key>ProcessType</key>\n  <string>Background</string>\n")
	b.WriteString("  <key>LowPriorityIO</key>\n  <true/>\n")
	b.WriteString("</dict>\n</plist>\n")
	return b.String(), nil
}

// CronLine returns a crontab line. cron can only express intervals that
// divide an hour (in minutes) or a day (in hours); the run lock keeps
// overlapping runs apart.
func CronLine(s Spec) (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	var when string
	m := int(s.Every / time.Minute)
	switch {
	case m < 60 && 60%m == 0:
		when = fmt.Sprintf("*/%d * * * *", m)
		if m == 1 {
			when = "* * * * *"
		}
	case m%60 == 0 && m/60 <= 24 && 24%(m/60) == 0:
		when = fmt.Sprintf("0 */%d * * *", m/60)
		if m/60 == 1 {
			when = "0 * * * *"
		}
		if m/60 == 24 {
			when = "0 0 * * *"
		}
	default:
		return "", fmt.Errorf("cron cannot run every %s: use minutes that divide 60 or hours that divide 24", HumanDuration(s.Every))
	}
	words := make([]string, 0, len(s.Args)+1)
	for _, a := range append([]string{s.Exe}, s.Args...) {
		words = append(words, shellQuote(a))
	}
	cmd := strings.Join(words, " ")
	if s.WorkDir != "" {
		cmd = "cd " + shellQuote(s.WorkDir) + " && " + cmd
	}
	// % ends the command in a crontab line unless escaped
	cmd = strings.ReplaceAll(cmd, "%", `\%`)
	return when + " " + cmd + " >/dev/null 2>&1\n", nil
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
