// Package config holds every option of `pstsync sync` and where each value
// came from. Values are resolved with the precedence
//
//	command-line flag > environment (PSTSYNC_*) > config file > default
//
// The file is TOML, found by --config, then $PSTSYNC_CONFIG, then
// %APPDATA%\pstsync\pstsync.toml on Windows or
// $XDG_CONFIG_HOME/pstsync/pstsync.toml (~/.config/pstsync/pstsync.toml)
// elsewhere. Credentials (the S3 access and secret keys) are accepted only
// from the file or the environment, never from a flag (a flag shows in the
// process list); Load warns when a file holding a secret is readable by
// group or others.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/pstsync/pstsync/sink"
)

// Config is the effective configuration of a sync run.
type Config struct {
	User       string        // user name in the shared store (users/<user>/state.json)
	PST        string        // the user's PST file (exclusive with Source)
	Source     string        // a folder of .ics/.vcf files instead of a PST
	Store      string        // local folder or s3://bucket/prefix
	Mailbox    string        // folder the run writes the merged view into
	Share      []string      // PST folders shared besides Calendar and Contacts
	Outlook    bool          // use the running Outlook (outlook package) instead of the PST
	FreeBusy   string        // folder of the published free/busy files (freebusy package)
	OnConflict string        // keep-both | newest | mine | theirs
	Timeout    time.Duration // a run taking longer is cancelled
	Every      time.Duration // interval of the scheduled task
	PruneEvery time.Duration // a sync prunes the history when the last prune is this old; 0: never
	// Passphrase opens an encrypted store (secret: file or environment
	// only, never a flag); PassphraseFile names a file holding it instead.
	Passphrase     string
	PassphraseFile string
	S3             S3
	Log            Log

	origins map[string]Origin
	unknown []string // keys in the file that are no option
}

// S3 are the options of an s3:// store.
type S3 struct {
	Endpoint        string // host[:port] or http(s):// URL; empty: AWS
	Region          string
	PathStyle       bool // bucket in the path instead of the host name
	TLS             bool // https (default); false for plain http on a LAN
	AccessKey       string
	SecretKey       string // secret: file or environment only, never logged
	Profile         string // profile in the credentials file
	CredentialsFile string // AWS-style shared credentials file
	Timeout         time.Duration
}

// Log are the options of the log file.
type Log struct {
	File      string // empty: the default location (see LogPath)
	Format    string // text | json
	Level     string // debug | info | warn | error
	MaxSizeMB int    // rotate when the file would grow past this
	MaxFiles  int    // files kept, the current one included
}

// Conflict policies (the values of on_conflict).
var ConflictPolicies = []string{"keep-both", "newest", "mine", "theirs"}

// Default returns the configuration before file, environment and flags.
func Default() *Config {
	c := &Config{
		OnConflict: "keep-both",
		Timeout:    30 * time.Minute,
		Every:      15 * time.Minute,
		PruneEvery: 24 * time.Hour,
		S3:         S3{TLS: true, Timeout: time.Minute},
		Log:        Log{Format: "text", Level: "info", MaxSizeMB: 5, MaxFiles: 3},
	}
	c.origins = map[string]Origin{}
	for _, o := range options {
		c.origins[o.Key] = Origin{Kind: FromDefault}
	}
	return c
}

// ErrInvalid is wrapped by every error about the configuration itself
// (unreadable file, syntax, wrong type, failed validation): `pstsync sync`
// exits with its "bad config" code for these.
var ErrInvalid = errors.New("invalid configuration")

// Error is one problem with one option.
type Error struct {
	Key string // option key ("s3.endpoint"); empty for the file as a whole
	Msg string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// OriginKind says where a value came from.
type OriginKind int

// Origins, lowest precedence first.
const (
	FromDefault OriginKind = iota
	FromFile
	FromEnv
	FromFlag
)

// Origin is where one option's value came from.
type Origin struct {
	Kind OriginKind
	Name string // file path, environment variable or flag name
}

func (o Origin) String() string {
	switch o.Kind {
	case FromFile:
		return "file " + o.Name
	case FromEnv:
		return "env " + o.Name
	case FromFlag:
		return "flag --" + o.Name
	}
	return "default"
}

// Origin reports where the value of option key came from.
func (c *Config) Origin(key string) Origin { return c.origins[key] }

// Source describes the config file Load used.
type Source struct {
	Path     string // the file looked for (empty when no location is known)
	Found    bool   // the file exists and was read
	Explicit bool   // named by --config or PSTSYNC_CONFIG (must exist)
}

// Load resolves the configuration: defaults, then the file (path, or
// $PSTSYNC_CONFIG, or the default location), then the environment read
// through env (os.Getenv in production; a map in tests). Flags are applied
// afterwards with Apply. A missing file is fine unless it was named
// explicitly. Errors wrap ErrInvalid.
func Load(path string, env func(string) string) (*Config, Source, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	c := Default()
	src := Source{Path: path, Explicit: path != ""}
	if src.Path == "" {
		if p := env("PSTSYNC_CONFIG"); p != "" {
			src.Path, src.Explicit = p, true
		}
	}
	if src.Path == "" {
		p, err := DefaultPath(runtime.GOOS, env)
		if err == nil {
			src.Path = p
		}
	}
	if src.Path != "" {
		data, err := os.ReadFile(src.Path)
		switch {
		case err == nil:
			src.Found = true
			if err := c.loadFile(src.Path, data); err != nil {
				return nil, src, err
			}
			warnIfReadable(src.Path, c)
		case errors.Is(err, fs.ErrNotExist) && !src.Explicit:
			// no file: defaults and environment only
		default:
			return nil, src, &Error{Msg: fmt.Sprintf("config file %s: %v", src.Path, err)}
		}
	}
	if err := c.loadEnv(env); err != nil {
		return nil, src, err
	}
	return c, src, nil
}

// Parse reads a config file's bytes onto the defaults (no environment).
// name is used in messages.
func Parse(name string, data []byte) (*Config, error) {
	c := Default()
	if err := c.loadFile(name, data); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) loadFile(name string, data []byte) error {
	var m map[string]any
	if _, err := toml.Decode(string(data), &m); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return &Error{Msg: fmt.Sprintf("config file %s: line %d: %s", name, pe.Position.Line, pe.Message)}
		}
		return &Error{Msg: fmt.Sprintf("config file %s: %v", name, err)}
	}
	flat := map[string]any{}
	flatten("", m, flat)
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(flat)) {
		o := lookup(k)
		if o == nil {
			c.unknown = append(c.unknown, k)
			continue
		}
		if err := o.setValue(c, flat[k]); err != nil {
			errs = append(errs, &Error{Key: k, Msg: fmt.Sprintf("in %s: %v", name, err)})
			continue
		}
		c.origins[k] = Origin{Kind: FromFile, Name: name}
	}
	return errors.Join(errs...)
}

func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(key, sub, out)
			continue
		}
		out[key] = v
	}
}

func (c *Config) loadEnv(env func(string) string) error {
	var errs []error
	for _, o := range options {
		for _, name := range o.envNames() {
			v := env(name)
			if v == "" {
				continue
			}
			if err := o.setString(c, []string{v}, true); err != nil {
				errs = append(errs, &Error{Key: o.Key, Msg: fmt.Sprintf("environment %s: %v", name, err)})
			} else {
				c.origins[o.Key] = Origin{Kind: FromEnv, Name: name}
			}
			break
		}
	}
	return errors.Join(errs...)
}

// Overrides are values given on the command line, by option key
// ("user", "s3.endpoint"); a list option takes every value, any other the
// last one. Values are parsed like environment values.
type Overrides map[string][]string

// Apply sets the overrides (command-line flags, the highest precedence).
// Secrets are refused: they must not appear in the process list.
func (c *Config) Apply(o Overrides) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(o)) {
		opt := lookup(k)
		switch {
		case opt == nil:
			errs = append(errs, &Error{Key: k, Msg: "no such option"})
			continue
		case opt.Secret:
			errs = append(errs, &Error{Key: k, Msg: "credentials are not accepted on the command line (they would show in the process list); put them in the config file or the environment"})
			continue
		case len(o[k]) == 0:
			continue
		}
		if err := opt.setString(c, o[k], false); err != nil {
			errs = append(errs, &Error{Key: k, Msg: fmt.Sprintf("flag --%s: %v", opt.Flag(), err)})
			continue
		}
		c.origins[k] = Origin{Kind: FromFlag, Name: opt.Flag()}
	}
	return errors.Join(errs...)
}

// Setting is one option's effective value for display.
type Setting struct {
	Key    string
	Value  string // "<redacted>" for a set secret
	Origin Origin
	Secret bool
}

// Settings lists every option's effective value, secrets redacted, in the
// order of Options.
func (c *Config) Settings() []Setting {
	out := make([]Setting, 0, len(options))
	for _, o := range options {
		v := o.format(c)
		if o.Secret && v != `""` {
			v = `"<redacted>"`
		}
		v = sink.RedactURL(v) // credentials written into a URL (store, endpoint)
		out = append(out, Setting{Key: o.Key, Value: v, Origin: c.origins[o.Key], Secret: o.Secret})
	}
	return out
}

// IsS3 reports whether the store is an S3 bucket.
func (c *Config) IsS3() bool { return strings.HasPrefix(c.Store, "s3://") }

// Bucket splits an s3:// store into bucket and prefix.
func (c *Config) Bucket() (bucket, prefix string) {
	rest := strings.TrimPrefix(c.Store, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	return bucket, strings.Trim(prefix, "/")
}

// LogMaxBytes is Log.MaxSizeMB in bytes.
func (c *Config) LogMaxBytes() int64 { return int64(c.Log.MaxSizeMB) << 20 }

// LogLevel is Log.Level as a slog level (info when unknown).
func (c *Config) LogLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.Log.Level)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func warnIfReadable(path string, c *Config) {
	if runtime.GOOS == "windows" {
		return // ACLs, not mode bits: %APPDATA% is private to the user by default
	}
	if c.S3.SecretKey == "" && c.S3.AccessKey == "" {
		return
	}
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		slog.Warn("config file holds S3 credentials and can be read by other users; run: chmod 600 "+path,
			"file", path, "mode", fmt.Sprintf("%04o", perm))
	}
}

// parseBool accepts the usual spellings of environment booleans.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true/false)", s)
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like 90s, 15m, 1h30m)", s)
	}
	return d, nil
}
