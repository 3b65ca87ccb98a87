// Package schedule generates the scheduler entries that run `pstsync sync`
// every few minutes: a Windows Task Scheduler task (registered with
// schtasks), a systemd user service + timer pair, a launchd agent and a
// cron line. Generation is pure and deterministic; only the Windows
// install/remove/status functions run a program (through a Runner).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Spec describes the scheduled job.
type Spec struct {
	Name    string        // task name, e.g. "pstsync sync (alice)"
	Exe     string        // absolute path of the pstsync binary
	Args    []string      // its arguments: sync --config PATH
	WorkDir string        // working directory ("" = none)
	Every   time.Duration // 1 minute to 31 days
	// Windows only.
	UserID  string    // DOMAIN\user the task runs as (the current user)
	Console bool      // Exe is a console program: start it through conhost --headless
	Start   time.Time // StartBoundary of the repetition (local time, no zone)
	// OKExitCodes are exit codes that are not failures (conflicts pending,
	// PST locked, already running): systemd does not mark them failed.
	OKExitCodes []int
	Description string
}

// Check reports what makes s unusable.
func (s Spec) Check() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("no task name"))
	}
	if s.Exe == "" {
		errs = append(errs, errors.New("no program"))
	}
	if s.Every < time.Minute || s.Every > 31*24*time.Hour {
		errs = append(errs, fmt.Errorf("every %s: use 1m to 744h", s.Every))
	}
	if s.Every%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("every %s: use whole minutes", s.Every))
	}
	return errors.Join(errs...)
}

// Slug is Name reduced to letters, digits and dashes (file and unit names).
func (s Spec) Slug() string {
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(s.Name), "-"), "-")
	if slug == "" {
		return "pstsync"
	}
	return slug
}

// isoDuration renders d as an XML Schema duration (PT15M, P1DT2H).
func isoDuration(d time.Duration) string {
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m, sec := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	out := "P"
	if days > 0 {
		out += fmt.Sprintf("%dD", days)
	}
	if h > 0 || m > 0 || sec > 0 {
		out += "T"
		if h > 0 {
			out += fmt.Sprintf("%dH", h)
		}
		if m > 0 {
			out += fmt.Sprintf("%dM", m)
		}
		if sec > 0 {
			out += fmt.Sprintf("%dS", sec)
		}
	}
	if out == "P" {
		return "PT0S"
	}
	return out
}

// Runner runs a program and returns its combined output (exec in
// production, a fake in tests).
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// Exec is the production Runner.
func Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}
