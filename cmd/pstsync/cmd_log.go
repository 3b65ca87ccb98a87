package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pstsync/pstsync/snapshot"
	"github.com/urfave/cli/v2"
)

func newLogCommand() *cli.Command {
	return &cli.Command{
		Name:  "log",
		Usage: "list the shared snapshot's revisions: who, when, what changed; or export the audit trail",
		Description: "Without options: one line per revision. --item UID: that item's history, one line per\n" +
			"change (also of revisions prune removed: their audit records are kept). --json or --csv: the\n" +
			"audit trail, one record per item change (rev, time, user, host, by, collection, uid, title,\n" +
			"op, fields, conflict, pruned), for scripts and spreadsheets. --since limits any of them.",
		Flags: append(storeFlags(),
			&cli.BoolFlag{Name: "json", Usage: "export the audit trail as JSON"},
			&cli.BoolFlag{Name: "csv", Usage: "export the audit trail as CSV"},
			&cli.StringFlag{Name: "item", Usage: "show the history of the item with this `UID`"},
			&cli.StringFlag{Name: "since", Usage: "only changes from `DATE` on (2006-01-02, 2006-01-02T15:04 local time, or RFC 3339)"}),
		Action: func(c *cli.Context) error {
			if c.Bool("json") && c.Bool("csv") {
				return usageError{fmt.Errorf("give --json or --csv, not both")}
			}
			since, err := parseSince(c.String("since"))
			if err != nil {
				return err
			}
			_, repo, err := configuredRepo(c)
			if err != nil {
				return err
			}
			w := c.App.Writer
			if c.Bool("json") || c.Bool("csv") || c.String("item") != "" {
				events, err := repo.History(c.Context, snapshot.HistoryFilter{UID: c.String("item"), Since: since})
				if err != nil {
					return err
				}
				switch {
				case c.Bool("json"):
					if events == nil {
						events = []snapshot.Event{}
					}
					enc := json.NewEncoder(w)
					enc.SetIndent("", "  ")
					return enc.Encode(events)
				case c.Bool("csv"):
					return writeEventsCSV(w, events)
				}
				if len(events) == 0 {
					return fmt.Errorf("no change of item %q is recorded (pstsync log --csv lists every item's changes): %w", c.String("item"), errNotFound)
				}
				for _, e := range events {
					fmt.Fprintln(w, eventLine(e))
				}
				return nil
			}
			entries, err := repo.Log(c.Context)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if !since.IsZero() && e.Error == "" && e.Time.Before(since) {
					continue
				}
				if e.Error != "" {
					fmt.Fprintf(w, "%6d  unreadable: %s\n", e.Rev, e.Error)
					continue
				}
				var ops []string
				for op, n := range e.Counts {
					ops = append(ops, fmt.Sprintf("%s %d", op, n))
				}
				sort.Strings(ops)
				who := e.Author.User
				if e.Author.Host != "" {
					who += "@" + e.Author.Host
				}
				conf := ""
				if e.Conflicts {
					conf = "  conflicts (pstsync report --rev " + fmt.Sprint(e.Rev) + ")"
				}
				if e.Pruned {
					conf += "  (pruned: the record of it only, it cannot be restored)"
				}
				fmt.Fprintf(w, "%6d  %s  %-20s %5d items  %s%s\n", e.Rev, e.Time.Local().Format(time.DateTime), who, e.Items,
					strings.Join(ops, ", "), conf)
			}
			return nil
		},
	}
}

// errNotFound: what was asked for is not there (exit code 1).
var errNotFound = fmt.Errorf("not found")

// eventLine is one change of an item, for people.
func eventLine(e snapshot.Event) string {
	who := e.User
	if e.Host != "" {
		who += "@" + e.Host
	}
	if e.By != "" && e.By != e.User {
		who += " (edit by " + e.By + ")"
	}
	s := fmt.Sprintf("%6d  %s  %-20s %-13s %s/%s", e.Rev, e.Time.Local().Format(time.DateTime), who, e.Op, e.Collection, e.UID)
	if e.Title != "" {
		s += fmt.Sprintf(" %q", e.Title)
	}
	if len(e.Fields) > 0 {
		s += " fields: " + strings.Join(e.Fields, ",")
	}
	if e.Conflict {
		s += "  conflict (pstsync report --rev " + strconv.FormatInt(e.Rev, 10) + ")"
	}
	if e.Pruned {
		s += "  (pruned: the record only)"
	}
	return s
}

// eventsCSVHeader are the columns of log --csv.
var eventsCSVHeader = []string{"rev", "time", "user", "host", "by", "collection", "uid", "title", "op", "fields", "conflict", "pruned"}

func writeEventsCSV(w io.Writer, events []snapshot.Event) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(eventsCSVHeader); err != nil {
		return err
	}
	for _, e := range events {
		rec := []string{strconv.FormatInt(e.Rev, 10), e.Time.UTC().Format(time.RFC3339), e.User, e.Host, e.By,
			e.Collection, e.UID, csvSafe(e.Title), string(e.Op), strings.Join(e.Fields, ";"),
			strconv.FormatBool(e.Conflict), strconv.FormatBool(e.Pruned)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from running a title as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// parseSince parses --since: a date, a local date and time, or RFC 3339.
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Errorf("--since %q: give a date like 2026-01-31, 2026-01-31T08:00 or an RFC 3339 time", s)}
}
