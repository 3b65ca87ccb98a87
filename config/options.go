package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of an option's value.
type Kind int

// Option kinds.
const (
	String Kind = iota
	Bool
	Int
	Duration
	List // file: array of strings; env: comma-separated; flag: repeated
)

// Option describes one setting: its file key, environment variables and
// flag. Options is the single table the file, environment, flags, example
// and validation are derived from.
type Option struct {
	Key     string   // TOML key, dotted for tables ("s3.endpoint")
	Kind    Kind     //
	Secret  bool     // file or environment only; redacted when shown
	Aliases []string // further environment variables, after PSTSYNC_*
	Usage   string
	ptr     func(*Config) any
}

// Env is the option's own environment variable: PSTSYNC_ and the key in
// upper case with dots as underscores (PSTSYNC_S3_ENDPOINT).
func (o *Option) Env() string {
	return "PSTSYNC_" + strings.ToUpper(strings.ReplaceAll(o.Key, ".", "_"))
}

// Flag is the option's command-line flag name (s3-endpoint); secrets have
// none ("").
func (o *Option) Flag() string {
	if o.Secret {
		return ""
	}
	return strings.NewReplacer(".", "-", "_", "-").Replace(o.Key)
}

func (o *Option) envNames() []string { return append([]string{o.Env()}, o.Aliases...) }

var options = []*Option{
	{Key: "user", Kind: String, Usage: "your user name in the shared store (letters, digits, . _ -)",
		ptr: func(c *Config) any { return &c.User }},
	{Key: "pst", Kind: String, Usage: "your Outlook data file (.pst)",
		ptr: func(c *Config) any { return &c.PST }},
	{Key: "source", Kind: String, Usage: "a folder of .ics/.vcf files to sync instead of a PST",
		ptr: func(c *Config) any { return &c.Source }},
	{Key: "store", Kind: String, Usage: "the shared store: a folder (may be on a network share) or s3://BUCKET/PREFIX",
		ptr: func(c *Config) any { return &c.Store }},
	{Key: "mailbox", Kind: String, Usage: "folder that receives the merged calendar, contacts and reports",
		ptr: func(c *Config) any { return &c.Mailbox }},
	{Key: "share", Kind: List, Usage: "more PST folders to share (repeat the flag)",
		ptr: func(c *Config) any { return &c.Share }},
	{Key: "outlook", Kind: Bool, Usage: "read and write the calendar and contacts in the running Outlook (Windows) instead of the PST file",
		ptr: func(c *Config) any { return &c.Outlook }},
	{Key: "freebusy", Kind: String, Usage: "folder for the free/busy files (NAME.vfb) Outlook's Internet Free/Busy reads; default: a freebusy folder beside a folder store",
		ptr: func(c *Config) any { return &c.FreeBusy }},
	{Key: "on_conflict", Kind: String, Usage: "keep-both | newest | mine | theirs",
		ptr: func(c *Config) any { return &c.OnConflict }},
	{Key: "timeout", Kind: Duration, Usage: "cancel a run that takes longer",
		ptr: func(c *Config) any { return &c.Timeout }},
	{Key: "every", Kind: Duration, Usage: "interval of the scheduled task",
		ptr: func(c *Config) any { return &c.Every }},
	{Key: "prune_every", Kind: Duration, Usage: "prune the store's history this often (keep 7 days, then daily for 3 months, then monthly); 0: never",
		ptr: func(c *Config) any { return &c.PruneEvery }},
	{Key: "passphrase", Kind: String, Secret: true, Usage: "the passphrase of an encrypted store (file or environment only)",
		ptr: func(c *Config) any { return &c.Passphrase }},
	{Key: "passphrase_file", Kind: String, Usage: "a file holding the passphrase of an encrypted store (its first line)",
		ptr: func(c *Config) any { return &c.PassphraseFile }},
	{Key: "s3.endpoint", Kind: String, Usage: "S3 server host[:port] (or an http(s):// URL); empty: AWS",
		ptr: func(c *Config) any { return &c.S3.Endpoint }},
	{Key: "s3.region", Kind: String, Aliases: []string{"AWS_REGION"}, Usage: "S3 region",
		ptr: func(c *Config) any { return &c.S3.Region }},
	{Key: "s3.path_style", Kind: Bool, Usage: "path-style bucket addressing (most self-hosted servers)",
		ptr: func(c *Config) any { return &c.S3.PathStyle }},
	{Key: "s3.tls", Kind: Bool, Usage: "use https (turn off only on a trusted LAN)",
		ptr: func(c *Config) any { return &c.S3.TLS }},
	{Key: "s3.access_key", Kind: String, Secret: true, Aliases: []string{"AWS_ACCESS_KEY_ID"}, Usage: "S3 access key id",
		ptr: func(c *Config) any { return &c.S3.AccessKey }},
	{Key: "s3.secret_key", Kind: String, Secret: true, Aliases: []string{"AWS_SECRET_ACCESS_KEY"}, Usage: "S3 secret key",
		ptr: func(c *Config) any { return &c.S3.SecretKey }},
	{Key: "s3.profile", Kind: String, Aliases: []string{"AWS_PROFILE"}, Usage: "profile in the S3 credentials file",
		ptr: func(c *Config) any { return &c.S3.Profile }},
	{Key: "s3.credentials_file", Kind: String, Aliases: []string{"AWS_SHARED_CREDENTIALS_FILE"}, Usage: "AWS-style credentials file",
		ptr: func(c *Config) any { return &c.S3.CredentialsFile }},
	{Key: "s3.timeout", Kind: Duration, Usage: "timeout of one S3 request",
		ptr: func(c *Config) any { return &c.S3.Timeout }},
	{Key: "log.file", Kind: String, Usage: "log file (default: the per-user log folder)",
		ptr: func(c *Config) any { return &c.Log.File }},
	{Key: "log.format", Kind: String, Usage: "text | json",
		ptr: func(c *Config) any { return &c.Log.Format }},
	{Key: "log.level", Kind: String, Usage: "debug | info | warn | error",
		ptr: func(c *Config) any { return &c.Log.Level }},
	{Key: "log.max_size_mb", Kind: Int, Usage: "rotate the log file at this size (MB)",
		ptr: func(c *Config) any { return &c.Log.MaxSizeMB }},
	{Key: "log.max_files", Kind: Int, Usage: "log files kept, the current one included",
		ptr: func(c *Config) any { return &c.Log.MaxFiles }},
}

// Options returns the option table (for building command-line flags).
func Options() []Option {
	out := make([]Option, len(options))
	for i, o := range options {
		out[i] = *o
	}
	return out
}

func lookup(key string) *Option {
	for _, o := range options {
		if o.Key == key {
			return o
		}
	}
	return nil
}

// setValue sets a value decoded from TOML.
func (o *Option) setValue(c *Config, v any) error {
	switch p := o.ptr(c).(type) {
	case *string:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string in quotes, got %v", tomlType(v))
		}
		*p = s
	case *bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("want true or false, got %v", tomlType(v))
		}
		*p = b
	case *int:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("want a whole number, got %v", tomlType(v))
		}
		*p = int(n)
	case *time.Duration:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a duration in quotes like \"15m\", got %v", tomlType(v))
		}
		d, err := parseDuration(s)
		if err != nil {
			return err
		}
		*p = d
	case *[]string:
		switch l := v.(type) {
		case string:
			*p = []string{l}
		case []any:
			out := make([]string, 0, len(l))
			for _, e := range l {
				s, ok := e.(string)
				if !ok {
					return fmt.Errorf("want a list of strings, found %v", tomlType(e))
				}
				out = append(out, s)
			}
			*p = out
		default:
			return fmt.Errorf("want a list of strings, got %v", tomlType(v))
		}
	}
	return nil
}

// setString sets a value from the environment (one value; lists are
// comma-separated) or from flags (lists: one value per flag).
func (o *Option) setString(c *Config, vals []string, fromEnv bool) error {
	last := vals[len(vals)-1]
	switch p := o.ptr(c).(type) {
	case *string:
		*p = last
	case *bool:
		b, err := parseBool(last)
		if err != nil {
			return err
		}
		*p = b
	case *int:
		n, err := parseInt(last)
		if err != nil {
			return err
		}
		*p = n
	case *time.Duration:
		d, err := parseDuration(last)
		if err != nil {
			return err
		}
		*p = d
	case *[]string:
		var out []string
		for _, v := range vals {
			if fromEnv {
				for _, s := range strings.Split(v, ",") {
					if s = strings.TrimSpace(s); s != "" {
						out = append(out, s)
					}
				}
				continue
			}
			out = append(out, v)
		}
		*p = out
	}
	return nil
}

// format renders the value as TOML.
func (o *Option) format(c *Config) string {
	switch p := o.ptr(c).(type) {
	case *string:
		return tomlQuote(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return tomlQuote(formatDuration(*p))
	case *[]string:
		q := make([]string, len(*p))
		for i, s := range *p {
			q[i] = tomlQuote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return ""
}

// tomlQuote writes s as a TOML basic string (strconv.Quote's \x escapes
// are not TOML).
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// formatDuration drops the zero units time.Duration.String keeps ("15m0s" → "15m").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "a number"
	case float64:
		return "a decimal number"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}
