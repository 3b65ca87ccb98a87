package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/logfile"
	"github.com/pstsync/pstsync/schedule"
	"github.com/urfave/cli/v2"
)

func newScheduleCommand() *cli.Command {
	return &cli.Command{
		Name:  "schedule",
		Usage: "run `pstsync sync` every few minutes: install, remove or show the scheduled task",
		Description: "Windows: registers a Task Scheduler task for the current user (no console window,\n" +
			"retries on failure, never two runs at once). Linux/macOS: prints the systemd timer,\n" +
			"launchd agent and cron line to install. Needs a config file (pstsync config init).\n" +
			"Flags go before or after the subcommand: pstsync schedule install --every 15m",
		Flags: append(configFlags(),
			&cli.BoolFlag{Name: "print", Usage: "Windows: print the task XML instead of registering it"},
		),
		Subcommands: []*cli.Command{
			{Name: "install", Usage: "register (Windows) or print (elsewhere) the scheduled sync", Action: runScheduleInstall},
			{Name: "remove", Usage: "remove the scheduled task (Windows) or say how (elsewhere)", Action: runScheduleRemove},
			{Name: "status", Usage: "show the scheduled task and the last run", Action: runScheduleStatus},
		},
	}
}

// scheduleSpec builds the job from the configuration. The task always
// runs `sync --config FILE` plus the option flags given here, so the
// config file is required: environment variables of this shell do not
// reach the scheduled run.
func scheduleSpec(c *cli.Context) (schedule.Spec, *config.Config, error) {
	cfg, src, err := loadConfig(c)
	if err != nil {
		return schedule.Spec{}, nil, err
	}
	if err := validateConfig(cfg, c.App.ErrWriter); err != nil {
		return schedule.Spec{}, nil, err
	}
	if !src.Found {
		return schedule.Spec{}, nil, fmt.Errorf("no config file at %s: create one with: pstsync config init (a scheduled run does not see this shell's environment): %w", src.Path, config.ErrInvalid)
	}
	cfgPath, err := filepath.Abs(src.Path)
	if err != nil {
		return schedule.Spec{}, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return schedule.Spec{}, nil, err
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	args := []string{"sync", "--config", cfgPath}
	over := configOverrides(c)
	keys := make([]string, 0, len(over))
	for k := range over {
		if k != "every" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, o := range config.Options() {
			if o.Key == k {
				for _, v := range over[k] {
					args = append(args, "--"+o.Flag()+"="+v)
				}
			}
		}
	}
	s := schedule.Spec{
		Name:        "pstsync sync (" + cfg.User + ")",
		Exe:         exe,
		Args:        args,
		Every:       cfg.Every,
		OKExitCodes: scheduledOKCodes,
	}
	if runtime.GOOS == "windows" {
		// pstsyncw.exe (the same program linked as a GUI-subsystem binary)
		// runs without any window; without it, conhost --headless hides the
		// console of pstsync.exe.
		gui := filepath.Join(filepath.Dir(exe), "pstsyncw.exe")
		if _, err := os.Stat(gui); err == nil {
			s.Exe = gui
		} else {
			s.Console = true
		}
		u, err := user.Current()
		if err != nil {
			return s, nil, fmt.Errorf("current Windows user: %w", err)
		}
		s.UserID = u.Username
		s.WorkDir = filepath.Dir(exe)
	}
	return s, cfg, nil
}

func runScheduleInstall(c *cli.Context) error {
	s, _, err := scheduleSpec(c)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if runtime.GOOS == "windows" {
		if c.Bool("print") {
			x, err := schedule.TaskXML(s)
			if err != nil {
				return err
			}
			_, err = w.Write(x)
			return err
		}
		if err := schedule.Install(c.Context, schedule.Exec, s); err != nil {
			return err
		}
		fmt.Fprintf(w, "registered the task %q: runs every %s while you are logged on, also with Outlook open\n%s\ncheck it with: pstsync schedule status\n", s.Name, schedule.HumanDuration(s.Every), scheduleReadsNote)
		return nil
	}
	return printUnixSchedule(w, s)
}

// scheduleReadsNote says what a scheduled run reads (issue 11).
const scheduleReadsNote = "each run works with Outlook itself while Outlook is open and answers (or always, with outlook = true),\n" +
	"and reads the PST file while Outlook is closed; last-run.txt in the mailbox folder says which one ran"

func printUnixSchedule(w io.Writer, s schedule.Spec) error {
	if runtime.GOOS == "darwin" {
		plist, err := schedule.LaunchdPlist(s)
		if err != nil {
			return err
		}
		label := schedule.LaunchdLabel(s)
		fmt.Fprintf(w, "# launchd: save as ~/Library/LaunchAgents/%s.plist, then run:\n#   launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/%s.plist\n%s\n", label, label, plist)
	} else {
		svc, tmr, err := schedule.SystemdUnits(s)
		if err != nil {
			return err
		}
		slug := s.Slug()
		fmt.Fprintf(w, "# systemd: save the two units below in ~/.config/systemd/user/, then run:\n#   systemctl --user daemon-reload && systemctl --user enable --now %s.timer\n", slug)
		fmt.Fprintf(w, "# ---- %s.service\n%s\n# ---- %s.timer\n%s\n", slug, svc, slug, tmr)
	}
	line, err := schedule.CronLine(s)
	if err != nil {
		fmt.Fprintf(w, "# cron: %v\n", err)
		return nil
	}
	fmt.Fprintf(w, "# or cron instead: add this line with crontab -e\n%s", line)
	return nil
}

func runScheduleRemove(c *cli.Context) error {
	s, _, err := scheduleSpec(c)
	if err != nil {
		return err
	}
	w := c.App.Writer
	switch runtime.GOOS {
	case "windows":
		if err := schedule.Remove(c.Context, schedule.Exec, s.Name); err != nil {
			return err
		}
		fmt.Fprintf(w, "removed the task %q\n", s.Name)
	case "darwin":
		label := schedule.LaunchdLabel(s)
		fmt.Fprintf(w, "launchctl bootout gui/$(id -u)/%s && rm ~/Library/LaunchAgents/%s.plist\n", label, label)
	default:
		fmt.Fprintf(w, "systemctl --user disable --now %s.timer && rm ~/.config/systemd/user/%s.{service,timer}\n", s.Slug(), s.Slug())
		fmt.Fprintln(w, "(or, with cron: crontab -e and delete the pstsync line)")
	}
	return nil
}

func runScheduleStatus(c *cli.Context) error {
	s, cfg, err := scheduleSpec(c)
	if err != nil {
		return err
	}
	w := c.App.Writer
	switch runtime.GOOS {
	case "windows":
		out, err := schedule.Status(c.Context, schedule.Exec, s.Name)
		if err != nil {
			return fmt.Errorf("task %q: %w (not installed? run: pstsync schedule install)", s.Name, err)
		}
		w.Write(out)
	case "darwin":
		fmt.Fprintf(w, "launchctl print gui/$(id -u)/%s\n", schedule.LaunchdLabel(s))
	default:
		fmt.Fprintf(w, "systemctl --user list-timers %s.timer; journalctl --user -u %s.service\n", s.Slug(), s.Slug())
	}
	b, err := os.ReadFile(filepath.Join(cfg.Mailbox, logfile.StatusFile))
	switch {
	case err == nil:
		fmt.Fprintf(w, "\n%s", b)
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(w, "\nno run recorded yet in %s\n", cfg.Mailbox)
	default:
		return err
	}
	return nil
}
