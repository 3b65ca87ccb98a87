package fake_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
	"github.com/pstsync/pstsync/pst"
)

func appt(subject string, start, end time.Time) *outlook.Write {
	return &outlook.Write{Class: outlook.ClassAppointment, UID: "uid-" + subject, TimeZone: "W. Europe Standard Time",
		Fields: map[string]any{"Subject": subject, "Start": start, "End": end, "Body": "line 1\nline 2"}}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// TestBehaviours checks the fake's Outlook behaviours one by one.
func TestBehaviours(t *testing.T) {
	ctx := context.Background()
	cal := outlook.FolderRef{Kind: outlook.Calendar}
	tests := []struct {
		name string
		run  func(t *testing.T, o *fake.Outlook)
	}{
		{"modification time has whole seconds, change key differs", func(t *testing.T, o *fake.Outlook) {
			o.Now = func() time.Time { return time.Date(2026, 1, 1, 10, 0, 0, 987654321, time.UTC) }
			e1, err := o.Write(ctx, cal, "", appt("a", t0, t0.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			e2, err := o.Write(ctx, cal, e1.ID, appt("b", t0, t0.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if e1.Modified.Nanosecond() != 0 || !e1.Modified.Equal(e2.Modified) {
				t.Errorf("modified %v, %v: want equal whole seconds", e1.Modified, e2.Modified)
			}
			if e1.ChangeKey == e2.ChangeKey {
				t.Errorf("change key unchanged over a save: %s", e1.ChangeKey)
			}
			if e1.ID != e2.ID {
				t.Errorf("EntryID changed on update: %s → %s", e1.ID, e2.ID)
			}
		}},
		{"EntryID changes on a move to another store only", func(t *testing.T, o *fake.Outlook) {
			o.AddStore("Archive")
			o.AddFolder(fake.DefaultStore, "Team", outlook.Calendar)
			e, _ := o.Write(ctx, cal, "", appt("a", t0, t0.Add(time.Hour)))
			id, err := o.Move(cal, e.ID, outlook.FolderRef{Kind: outlook.Named, Name: "Team"})
			if err != nil || id != e.ID {
				t.Fatalf("move within the store: id %s, %v; want %s", id, err, e.ID)
			}
			id2, err := o.Move(outlook.FolderRef{Kind: outlook.Named, Name: "Team"}, id, outlook.FolderRef{Kind: outlook.Named, Name: "Archive/Calendar"})
			if err != nil || id2 == id {
				t.Fatalf("move to another store: id %s, %v; want a new id", id2, err)
			}
			l, _ := o.List(ctx, outlook.FolderRef{Kind: outlook.Named, Name: "Archive/Calendar"})
			if len(l) != 1 || l[0].UID != "uid-a" {
				t.Errorf("moved item listed as %+v; want its pstsync UID", l)
			}
		}},
		{"delete moves to Deleted Items", func(t *testing.T, o *fake.Outlook) {
			e, _ := o.Write(ctx, cal, "", appt("a", t0, t0.Add(time.Hour)))
			if err := o.Delete(ctx, cal, e.ID); err != nil {
				t.Fatal(err)
			}
			if l, _ := o.List(ctx, cal); len(l) != 0 {
				t.Errorf("calendar still lists %v", l)
			}
			if d := o.Deleted(fake.DefaultStore); len(d) != 1 || d[0].ID != e.ID {
				t.Errorf("Deleted Items: %v", d)
			}
			if _, err := o.Read(ctx, cal, e.ID); !errors.Is(err, outlook.ErrNotFound) {
				t.Errorf("read of a deleted item: %v", err)
			}
		}},
		{"refuses an end before the start", func(t *testing.T, o *fake.Outlook) {
			_, err := o.Write(ctx, cal, "", appt("a", t0, t0.Add(-time.Hour)))
			if !errors.Is(err, outlook.ErrRefused) {
				t.Errorf("err %v, want ErrRefused", err)
			}
		}},
		{"refuses an occurrence moved past the next one", func(t *testing.T, o *fake.Outlook) {
			w := appt("s", t0, t0.Add(time.Hour))
			w.Recurrence = &outlook.Recurrence{Type: outlook.RecursWeekly, Interval: 1, DayOfWeekMask: 2, PatternStart: t0, Occurrences: 4,
				Exceptions: []outlook.Exception{
					{Original: t0.AddDate(0, 0, 7), Start: t0.AddDate(0, 0, 15), End: t0.AddDate(0, 0, 15).Add(time.Hour)},
					{Original: t0.AddDate(0, 0, 14), Start: t0.AddDate(0, 0, 14), End: t0.AddDate(0, 0, 14).Add(time.Hour)},
				}}
			_, err := o.Write(ctx, cal, "", w)
			if !errors.Is(err, outlook.ErrRefused) {
				t.Errorf("err %v, want ErrRefused", err)
			}
		}},
		{"refuses an unknown time zone and a contact in a calendar", func(t *testing.T, o *fake.Outlook) {
			w := appt("a", t0, t0.Add(time.Hour))
			w.TimeZone = "Mars Standard Time"
			if _, err := o.Write(ctx, cal, "", w); !errors.Is(err, outlook.ErrRefused) {
				t.Errorf("unknown zone: err %v, want ErrRefused", err)
			}
			c := &outlook.Write{Class: outlook.ClassContact, Fields: map[string]any{"LastName": "X"}}
			if _, err := o.Write(ctx, cal, "", c); !errors.Is(err, outlook.ErrRefused) {
				t.Errorf("contact in calendar: err %v, want ErrRefused", err)
			}
		}},
		{"rewrites text: CRLF, subject cut at 255", func(t *testing.T, o *fake.Outlook) {
			e, _ := o.Write(ctx, cal, "", appt(strings.Repeat("x", 300), t0, t0.Add(time.Hour)))
			it, err := o.Read(ctx, cal, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if b := it.Msg.Props.String(pst.TagBody); b != "line 1\r\nline 2" {
				t.Errorf("body %q", b)
			}
			if s := it.Msg.Subject(); len(s) != 255 {
				t.Errorf("subject of %d chars", len(s))
			}
		}},
		{"private stays private", func(t *testing.T, o *fake.Outlook) {
			w := appt("p", t0, t0.Add(time.Hour))
			w.Fields["Sensitivity"] = outlook.SensitivityPrivate
			e, _ := o.Write(ctx, cal, "", w)
			it, _ := o.Read(ctx, cal, e.ID)
			if !it.Private() {
				t.Error("private item not Private()")
			}
		}},
		{"a name in several stores is ambiguous; Store/Folder is not", func(t *testing.T, o *fake.Outlook) {
			o.AddStore("Archive")
			o.AddFolder(fake.DefaultStore, "Team", outlook.Calendar)
			o.AddFolder("Archive", "Team", outlook.Calendar)
			if _, err := o.List(ctx, outlook.FolderRef{Kind: outlook.Named, Name: "Team"}); !errors.Is(err, outlook.ErrAmbiguous) {
				t.Errorf("err %v, want ErrAmbiguous", err)
			}
			if _, err := o.List(ctx, outlook.FolderRef{Kind: outlook.Named, Name: "Archive/Team"}); err != nil {
				t.Errorf("Archive/Team: %v", err)
			}
			if _, err := o.List(ctx, outlook.FolderRef{Kind: outlook.Named, Name: "Nope"}); !errors.Is(err, outlook.ErrNoFolder) {
				t.Errorf("err %v, want ErrNoFolder", err)
			}
		}},
		{"a blocked or hung Outlook gives its error", func(t *testing.T, o *fake.Outlook) {
			o.Fail = func(op string) error {
				if op == "Read" {
					return outlook.ErrBlocked
				}
				return outlook.ErrTimeout
			}
			if _, err := o.List(ctx, cal); !errors.Is(err, outlook.ErrTimeout) {
				t.Errorf("List: %v", err)
			}
			if _, err := o.Read(ctx, cal, "x"); !errors.Is(err, outlook.ErrBlocked) {
				t.Errorf("Read: %v", err)
			}
		}},
		{"a new item gets a GlobalObjectID that an update keeps", func(t *testing.T, o *fake.Outlook) {
			e, _ := o.Write(ctx, cal, "", appt("a", t0, t0.Add(time.Hour)))
			it1, _ := o.Read(ctx, cal, e.ID)
			o.Write(ctx, cal, e.ID, appt("b", t0, t0.Add(time.Hour)))
			it2, _ := o.Read(ctx, cal, e.ID)
			g := func(it *outlook.Item) string {
				return string(it.Msg.Props.Binary(it.Msg.Props.NamedID(pst.PSETIDMeeting, 3)))
			}
			if g(it1) == "" || g(it1) != g(it2) {
				t.Errorf("GlobalObjectID %x then %x", g(it1), g(it2))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, fake.New()) })
	}
}
