package main

import (
	"context"
	"log/slog"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/freebusy"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/com"
	"github.com/pstsync/pstsync/pstlock"
)

// outlookRunning is pstlock.OutlookRunning; tests replace it.
var outlookRunning = pstlock.OutlookRunning

// syncOutlook opens the Outlook bridge when this run uses it: with
// --outlook (config outlook = true) always, and Outlook that cannot be used
// is an error (exit 10 or 11); else when a PST is configured, OUTLOOK.EXE
// runs and the bridge opens (Outlook holds its PST then). nil means the
// run reads the PST file or the source folder.
func syncOutlook(ctx context.Context, cfg *config.Config) (outlook.Session, error) {
	if cfg.Outlook {
		s, err := openOutlook(ctx, com.Options{})
		if err != nil {
			return nil, &outlookError{err: err}
		}
		return s, nil
	}
	if cfg.PST == "" {
		return nil, nil
	}
	running, err := outlookRunning()
	if err != nil || !running {
		return nil, nil
	}
	s, err := openOutlook(ctx, com.Options{})
	if err != nil {
		slog.WarnContext(ctx, "Outlook runs but cannot be used: reading the PST file", "err", err)
		return nil, nil
	}
	return s, nil
}

// freeBusyDir is where the user's free/busy file goes: the freebusy
// option, else a freebusy folder beside a folder store; "" (none) for an
// S3 store without the option.
func freeBusyDir(cfg *config.Config) string {
	switch {
	case cfg.FreeBusy != "":
		return cfg.FreeBusy
	case cfg.IsS3() || cfg.Store == "":
		return ""
	}
	return freebusy.DefaultDir(cfg.Store)
}
