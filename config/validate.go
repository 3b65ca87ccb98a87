package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pstsync/pstsync/sink"
)

// userRE is compiled on first use: every run of the program pays for
// package initialisation, few validate a configuration.
var userRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

// Validate checks the configuration of a sync run and returns every
// problem found (nil when it is usable). Each error is an *Error naming
// the option and wraps ErrInvalid.
func (c *Config) Validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Msg: sink.RedactURL(fmt.Sprintf(format, args...))})
	}
	for _, k := range c.unknown {
		bad(k, "unknown option in the config file (check the spelling; `pstsync config init` writes every option)")
	}
	switch {
	case c.User == "":
		bad("user", "missing: set user = \"NAME\" (each person a different name)")
	case !userRE().MatchString(c.User):
		bad("user", "%q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", c.User)
	}
	switch {
	case c.PST == "" && c.Source == "" && !c.Outlook:
		bad("pst", "missing: set pst = \"PATH\\\\Outlook.pst\" (or source = a folder of .ics/.vcf files, or outlook = true)")
	case c.Source != "" && c.Outlook:
		bad("source", "give either source or outlook, not both")
	case c.PST != "" && c.Source != "":
		bad("source", "give either pst or source, not both")
	}
	switch {
	case c.Store == "":
		bad("store", "missing: set store = a shared folder or s3://BUCKET/PREFIX")
	case c.IsS3():
		if b, _ := c.Bucket(); b == "" {
			bad("store", "%q names no bucket: use s3://BUCKET or s3://BUCKET/PREFIX", c.Store)
		}
	case strings.Contains(c.Store, "://"):
		bad("store", "%q: only local folders and s3:// stores are supported", c.Store)
	}
	if e := c.S3.Endpoint; strings.Contains(e, "://") && !strings.HasPrefix(e, "https://") && !strings.HasPrefix(e, "http://") {
		bad("s3.endpoint", "%q: give host[:port] (or an http:// or https:// URL)", e)
	}
	if (c.S3.AccessKey == "") != (c.S3.SecretKey == "") {
		bad("s3.secret_key", "s3.access_key and s3.secret_key go together: set both or neither")
	}
	if c.Mailbox == "" {
		bad("mailbox", "missing: set mailbox = the folder that receives the shared calendar and contacts")
	}
	if !slices.Contains(ConflictPolicies, c.OnConflict) {
		bad("on_conflict", "%q: use one of %s", c.OnConflict, strings.Join(ConflictPolicies, ", "))
	}
	for _, s := range c.Share {
		if strings.TrimSpace(s) == "" {
			bad("share", "an empty folder name")
		}
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	// Task Scheduler repetition intervals are 1 minute to 31 days.
	if c.Every < time.Minute || c.Every > 31*24*time.Hour {
		bad("every", "%s: use 1m to 744h", c.Every)
	}
	if c.S3.Timeout <= 0 {
		bad("s3.timeout", "must be positive")
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q: use text or json", c.Log.Format)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q: use debug, info, warn or error", c.Log.Level)
	}
	if c.Log.MaxSizeMB < 1 || c.Log.MaxSizeMB > 1024 {
		bad("log.max_size_mb", "%d: use 1 to 1024", c.Log.MaxSizeMB)
	}
	if c.Log.MaxFiles < 1 || c.Log.MaxFiles > 100 {
		bad("log.max_files", "%d: use 1 to 100", c.Log.MaxFiles)
	}
	return errs
}
