package config

import (
	"errors"
	"runtime"
	"strings"
)

// DefaultPath is where the config file lives when --config is not given:
// %APPDATA%\pstsync\pstsync.toml on Windows, else
// $XDG_CONFIG_HOME/pstsync/pstsync.toml or ~/.config/pstsync/pstsync.toml.
func DefaultPath(goos string, env func(string) string) (string, error) {
	if goos == "windows" {
		base := env("APPDATA")
		if base == "" {
			if p := env("USERPROFILE"); p != "" {
				base = join(goos, p, "AppData", "Roaming")
			}
		}
		if base == "" {
			return "", errors.New("neither APPDATA nor USERPROFILE is set")
		}
		return join(goos, base, "pstsync", "pstsync.toml"), nil
	}
	base := env("XDG_CONFIG_HOME")
	if base == "" {
		home := env("HOME")
		if home == "" {
			return "", errors.New("neither XDG_CONFIG_HOME nor HOME is set")
		}
		base = join(goos, home, ".config")
	}
	return join(goos, base, "pstsync", "pstsync.toml"), nil
}

// StateDir is the per-user folder for the run lock and (elsewhere than
// Windows) the logs: %LOCALAPPDATA%\pstsync on Windows, else
// $XDG_STATE_HOME/pstsync or ~/.local/state/pstsync.
func StateDir(goos string, env func(string) string) (string, error) {
	if goos == "windows" {
		base := env("LOCALAPPDATA")
		if base == "" {
			if p := env("USERPROFILE"); p != "" {
				base = join(goos, p, "AppData", "Local")
			}
		}
		if base == "" {
			return "", errors.New("neither LOCALAPPDATA nor USERPROFILE is set")
		}
		return join(goos, base, "pstsync"), nil
	}
	base := env("XDG_STATE_HOME")
	if base == "" {
		home := env("HOME")
		if home == "" {
			return "", errors.New("neither XDG_STATE_HOME nor HOME is set")
		}
		base = join(goos, home, ".local", "state")
	}
	return join(goos, base, "pstsync"), nil
}

// LogDir is the default log folder: %LOCALAPPDATA%\pstsync\logs on
// Windows, else the state dir.
func LogDir(goos string, env func(string) string) (string, error) {
	d, err := StateDir(goos, env)
	if err != nil || goos != "windows" {
		return d, err
	}
	return join(goos, d, "logs"), nil
}

// LogPath is the log file: log.file, else pstsync.log in LogDir.
func (c *Config) LogPath(env func(string) string) (string, error) {
	if c.Log.File != "" {
		return c.Log.File, nil
	}
	d, err := LogDir(runtime.GOOS, env)
	if err != nil {
		return "", err
	}
	return join(runtime.GOOS, d, "pstsync.log"), nil
}

// LockPath is the user's run lock file in the state dir.
func (c *Config) LockPath(env func(string) string) (string, error) {
	d, err := StateDir(runtime.GOOS, env)
	if err != nil {
		return "", err
	}
	name := c.User
	if name == "" {
		name = "default"
	}
	return join(runtime.GOOS, d, name+".lock"), nil
}

// join joins with the separator of goos, so Windows paths can be computed
// (and tested) on any OS.
func join(goos string, parts ...string) string {
	sep := "/"
	if goos == "windows" {
		sep = `\`
	}
	out := strings.TrimRight(parts[0], sep)
	for _, p := range parts[1:] {
		out += sep + strings.Trim(p, sep)
	}
	return out
}
