package config

import "strings"

// Example returns a commented config file: the required options empty, the
// others commented out at their defaults. `pstsync config init` writes it.
func Example() string { return ExampleFor(nil) }

// ExampleFor is Example with the required options (user, pst, source,
// store, mailbox, share) filled from c when set there.
func ExampleFor(c *Config) string {
	if c == nil {
		c = Default()
	}
	q := tomlQuote
	pstLine := "pst = " + q(c.PST)
	sourceLine := "# source = \"\""
	if c.Source != "" {
		pstLine = "# pst = \"\""
		sourceLine = "source = " + q(c.Source)
	}
	shareLine := "# share = [\"Team\", \"Projects\"]"
	if len(c.Share) > 0 {
		shareLine = "share = " + lookup("share").format(c)
	}
	r := strings.NewReplacer(
		"@USER@", "user = "+q(c.User),
		"@PST@", pstLine,
		"@SOURCE@", sourceLine,
		"@STORE@", "store = "+q(c.Store),
		"@MAILBOX@", "mailbox = "+q(c.Mailbox),
		"@SHARE@", shareLine,
	)
	return r.Replace(exampleText)
}

const exampleText = `# pstsync configuration (TOML). Every option can also be set by an
# environment variable (PSTSYNC_ plus the key in capitals, dots as
# underscores: PSTSYNC_USER, PSTSYNC_S3_ENDPOINT) or, except credentials, by
# the flag of the same name (--user, --s3-endpoint). Flags win over the
# environment, the environment over this file.
#
# Check it with:  pstsync config check
# Windows paths: use single quotes ('C:\Users\anna\...') or double the
# backslashes ("C:\\Users\\anna\\...").

# Your name in the shared store: each person (PST) a different one.
@USER@

# Your Outlook data file. Outlook may stay open: pstsync reads a copy
# when Windows allows it and otherwise tries again next time.
@PST@
# ... or a folder of .ics/.vcf files instead of a PST (Thunderbird, phone):
@SOURCE@

# The shared store everybody syncs with: a folder (a network share such as
# '\\nas\pstsync' works) or an S3 bucket: "s3://BUCKET/PREFIX".
@STORE@

# Where the merged calendar and contacts, the import files and the
# conflict report are written for you (and last-run.txt).
@MAILBOX@

# Folders shared besides your default Calendar and Contacts.
@SHARE@

# Windows, Outlook open all day: read and write the calendar and contacts
# in the running Outlook instead of the PST file (check it once per PC with
# pstsync outlook selftest).
# outlook = false

# Folder for the free/busy files (NAME.vfb) that Outlook's Scheduling
# Assistant reads; default: a "freebusy" folder beside a folder store (set
# it for an s3:// store). pstsync config init prints the setting to enter
# in Outlook.
# freebusy = ""

# When both sides changed the same thing: keep-both (default: both versions
# survive, the second marked as a conflict copy), newest, mine, theirs.
# on_conflict = "keep-both"

# A run taking longer than this is cancelled (nothing half-written stays).
# timeout = "30m"

# How often the scheduled task runs (pstsync schedule install).
# every = "15m"

# How often a sync also prunes the store's history (keeps every revision of
# the last 7 days, then one a day for 3 months, then one a month; see
# pstsync prune). One user's sync does it for the office; "0s" never.
# prune_every = "24h"

# An encrypted store (pstsync store encrypt) opens with a passphrase: here
# (then make this file readable only by you), in the environment
# (PSTSYNC_PASSPHRASE), or in a file of its own (its first line). Never on
# the command line. Lost passphrases cannot be recovered.
# passphrase = ""
# passphrase_file = ""

[s3]
# Only for an s3:// store. The server as host[:port]; empty means AWS.
# endpoint = "s3.eu-central-1.amazonaws.com"
# region = ""
# path_style = false   # true for most self-hosted servers (MinIO, versitygw, NAS)
# tls = true           # false only for plain http on a trusted network
# timeout = "1m"       # per request
#
# Credentials: here (then make this file readable only by you), in the
# environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or
# PSTSYNC_S3_ACCESS_KEY / PSTSYNC_S3_SECRET_KEY), or in a credentials file.
# Never on the command line.
# access_key = ""
# secret_key = ""
# profile = ""
# credentials_file = ""

[log]
# Default: %LOCALAPPDATA%\pstsync\logs\pstsync.log on Windows,
# ~/.local/state/pstsync/pstsync.log elsewhere.
# file = ""
# format = "text"      # or json
# level = "info"       # debug, info, warn, error
# max_size_mb = 5      # rotate at this size
# max_files = 3        # files kept, the current one included
`
