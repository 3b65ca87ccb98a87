package syncer

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
	"github.com/pstsync/pstsync/pst"
	"github.com/pstsync/pstsync/pst/contact"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/snapshot"
)

var olCal = outlook.FolderRef{Kind: outlook.Calendar}
var olCon = outlook.FolderRef{Kind: outlook.Contacts}

// outlookOpts is a user syncing from a (fake) Outlook.
func (e *env) outlookOpts(user string, o *fake.Outlook) Options {
	op := e.opts(user)
	op.Source, op.Outlook = "", o
	return op
}

func (e *env) syncOutlook(user string, o *fake.Outlook) *Result {
	e.t.Helper()
	res, err := Sync(context.Background(), e.outlookOpts(user, o))
	if err != nil {
		e.t.Fatalf("sync %s (Outlook): %v", user, err)
	}
	return res
}

// userAdds creates an item in Outlook as its user does: no pstsync UID.
func userAdds(t testing.TB, o *fake.Outlook, f outlook.FolderRef, d *merge.Doc) outlook.Entry {
	t.Helper()
	w, err := outlook.FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	w.UID = ""
	e, err := o.Write(context.Background(), f, "", w)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// userEdits changes an Outlook item as its user does (the pstsync UID
// property stays).
func userEdits(t testing.TB, o *fake.Outlook, f outlook.FolderRef, id string, edit func(w *outlook.Write)) {
	t.Helper()
	ctx := context.Background()
	it, err := o.Read(ctx, f, id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := outlook.ToDoc(it)
	if err != nil {
		t.Fatal(err)
	}
	w, err := outlook.FromDoc(d)
	if err != nil {
		t.Fatal(err)
	}
	w.UID = it.UID
	edit(w)
	if _, err := o.Write(ctx, f, id, w); err != nil {
		t.Fatal(err)
	}
}

// outlookTitles lists "title" of every item of an Outlook folder, sorted.
func outlookTitles(t testing.TB, o *fake.Outlook, f outlook.FolderRef) ([]string, map[string]outlook.Entry) {
	t.Helper()
	ctx := context.Background()
	es, err := o.List(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	by := map[string]outlook.Entry{}
	for _, e := range es {
		it, err := o.Read(ctx, f, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		d, err := outlook.ToDoc(it)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Title())
		by[d.Title()] = e
	}
	slices.Sort(out)
	return out, by
}

// storeTitles lists "collection/title" of every shared item, sorted.
func (e *env) storeTitles() []string {
	e.t.Helper()
	var out []string
	for coll, items := range e.latest().Collections {
		for _, en := range items {
			out = append(out, coll+"/"+en.Title)
		}
	}
	slices.Sort(out)
	return out
}

func docOf(t testing.TB, ics string) *merge.Doc {
	t.Helper()
	d, err := merge.DecodeCalendar([]byte(ics))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestOutlookScenario: alice syncs from Outlook (the fake), bob from a
// folder. Adds, edits and deletes travel both ways, what pstsync wrote into
// Outlook is read back as unchanged, a private item stays private and is
// never replaced, a series with exceptions and a contact with photo go
// through, an item moved to another store and back (new EntryID) is not
// duplicated, and quiet rounds commit nothing.
func TestOutlookScenario(t *testing.T) {
	e := newEnv(t)
	o := fake.New()
	o.Now = tick
	o.AddStore("Archive")
	set, err := outlook.SelftestSet(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	series, private, photo := set[0].Doc, set[2].Doc, set[3].Doc
	userAdds(t, o, olCal, docOf(t, icsEvent("A1", "Planning", "LOCATION:Room 1")))
	userAdds(t, o, olCal, series)
	userAdds(t, o, olCal, private)
	userAdds(t, o, olCon, photo)
	put(t, e.src("bob"), "b1.ics", icsEvent("B1", "Review"))
	put(t, e.src("bob"), "bc.vcf", vcfCard("BC", "Bea Chan", "EMAIL:bea@example.com")+vcfCard("BD", "Dan Dorn"))

	res := e.syncOutlook("alice", o)
	if !res.Committed || res.Added != 4 || len(res.Conflicts) != 0 || len(res.Problems) != 0 {
		t.Fatalf("alice's first sync: %+v", res)
	}
	if got := *res.Outlook; got.Created+got.Updated+got.Removed != 0 {
		t.Fatalf("alice's first sync wrote into Outlook: %+v", got)
	}
	res = e.sync("bob")
	if !res.Committed || res.Added != 3 {
		t.Fatalf("bob's first sync: %+v", res)
	}
	want := []string{"calendar/" + merge.PrivateTitle, "calendar/Planning", "calendar/Review", "calendar/" + series.Title(),
		"contacts/Bea Chan", "contacts/Dan Dorn", "contacts/" + photo.Title()}
	slices.Sort(want)
	if got := e.storeTitles(); !slices.Equal(got, want) {
		t.Fatalf("store after both:\n got %q\nwant %q", got, want)
	}
	for _, en := range e.latest().Collections[Calendar] {
		obj, _ := e.repo.GetObject(context.Background(), en.Hash)
		if strings.Contains(string(obj), private.Title()) {
			t.Fatalf("the private item's summary reached the store:\n%s", obj)
		}
	}

	// alice's next sync writes bob's items into Outlook.
	res = e.syncOutlook("alice", o)
	if res.Committed || res.Outlook.Created != 3 || res.Outlook.Updated != 0 || res.Outlook.Removed != 0 {
		t.Fatalf("delivery into Outlook: committed %v, %+v", res.Committed, res.Outlook)
	}
	if n := len(res.Incoming); sumInts(res.Incoming) != 0 {
		t.Fatalf("items written into Outlook also counted as incoming files: %d %v", n, res.Incoming)
	}
	cal, byTitle := outlookTitles(t, o, olCal)
	wantCal := []string{"Planning", "Review", private.Title(), series.Title()}
	slices.Sort(wantCal)
	if !slices.Equal(cal, wantCal) {
		t.Fatalf("Outlook calendar:\n got %q\nwant %q", cal, wantCal)
	}
	if byTitle["Review"].UID != "B1" {
		t.Fatalf("delivered item carries pstsync UID %q, want B1", byTitle["Review"].UID)
	}
	con, _ := outlookTitles(t, o, olCon)
	if want := []string{"Bea Chan", "Dan Dorn", photo.Title()}; !slices.Equal(con, sorted(want)) {
		t.Fatalf("Outlook contacts: %q", con)
	}

	// Quiet rounds: nothing committed, nothing written, only the private
	// item read again (its owner's version is never stored).
	for i := 0; i < 2; i++ {
		res = e.syncOutlook("alice", o)
		if res.Committed || !quietOL(res.Outlook) || res.Decoded != 1 || len(res.Files) != 0 {
			t.Fatalf("quiet round %d: committed %v, outlook %+v, decoded %d, files %v", i, res.Committed, res.Outlook, res.Decoded, res.Files)
		}
	}

	// bob edits Review; alice gets it in place (same EntryID).
	put(t, e.src("bob"), "b1.ics", icsEvent("B1", "Review Q3"))
	e.sync("bob")
	res = e.syncOutlook("alice", o)
	if res.Committed || res.Outlook.Updated != 1 || res.Outlook.Created != 0 {
		t.Fatalf("update into Outlook: %v %+v", res.Committed, res.Outlook)
	}
	cal, byTitle2 := outlookTitles(t, o, olCal)
	if byTitle2["Review Q3"].ID != byTitle["Review"].ID || len(cal) != 4 {
		t.Fatalf("update not in place: %q", cal)
	}

	// alice edits another field of it in Outlook: merged with bob's edit.
	userEdits(t, o, olCal, byTitle2["Review Q3"].ID, func(w *outlook.Write) { w.Fields["Location"] = "Room 7" })
	res = e.syncOutlook("alice", o)
	if !res.Committed || res.Modified != 1 || len(res.Conflicts) != 0 {
		t.Fatalf("alice's edit in Outlook: %+v", res)
	}
	if obj := e.object(Calendar, "B1"); !strings.Contains(obj, "Room 7") || !strings.Contains(obj, "Review Q3") {
		t.Fatalf("merged edit:\n%s", obj)
	}
	if res = e.syncOutlook("alice", o); res.Committed || !quietOL(res.Outlook) {
		t.Fatalf("round after alice's edit: %v %+v", res.Committed, res.Outlook)
	}

	// bob deletes his contact: it goes to alice's Deleted Items.
	put(t, e.src("bob"), "bc.vcf", vcfCard("BD", "Dan Dorn"))
	if res = e.sync("bob"); res.Deleted != 1 {
		t.Fatalf("bob's delete: %+v", res)
	}
	res = e.syncOutlook("alice", o)
	if res.Outlook.Removed != 1 {
		t.Fatalf("removal in Outlook: %+v", res.Outlook)
	}
	if con, _ := outlookTitles(t, o, olCon); !slices.Equal(con, sorted([]string{"Dan Dorn", photo.Title()})) {
		t.Fatalf("Outlook contacts after bob's delete: %q", con)
	}
	if del := o.Deleted(fake.DefaultStore); len(del) != 1 {
		t.Fatalf("Deleted Items: %+v", del)
	}

	// alice deletes Planning in Outlook: deleted for bob too.
	_, byTitle = outlookTitles(t, o, olCal)
	if err := o.Delete(context.Background(), olCal, byTitle["Planning"].ID); err != nil {
		t.Fatal(err)
	}
	if res = e.syncOutlook("alice", o); res.Deleted != 1 || !res.Committed {
		t.Fatalf("alice's delete in Outlook: %+v", res)
	}
	e.sync("bob")
	if _, err := os.Stat(filepath.Join(e.mailbox("bob"), CalendarDir, "Planning.ics")); err == nil {
		t.Fatal("deleted item still in bob's mailbox")
	}

	// bob edits the busy copy of alice's private item: alice's item in
	// Outlook stays as she has it.
	var privUID string
	for uid, en := range e.latest().Collections[Calendar] {
		if en.Title == merge.PrivateTitle {
			privUID = uid
		}
	}
	e.importItem("bob", Calendar, privUID)
	e.sync("bob")
	busy := read(t, filepath.Join(e.src("bob"), "imported-"+FileName(privUID)+".ics"))
	put(t, e.src("bob"), "imported-"+FileName(privUID)+".ics", strings.Replace(busy, "SUMMARY:"+merge.PrivateTitle, "SUMMARY:Lunch?", 1))
	e.sync("bob")
	e.syncOutlook("alice", o)
	if cal, _ := outlookTitles(t, o, olCal); !slices.Contains(cal, private.Title()) || slices.Contains(cal, "Lunch?") {
		t.Fatalf("alice's private item replaced: %q", cal)
	}

	// alice moves the series to another store and back: a new EntryID,
	// the same shared item (linked by its pstsync UID).
	_, byTitle = outlookTitles(t, o, olCal)
	id := byTitle[series.Title()].ID
	arch := outlook.FolderRef{Kind: outlook.Named, Name: "Archive/Calendar"}
	id2, err := o.Move(olCal, id, arch)
	if err != nil {
		t.Fatal(err)
	}
	id3, err := o.Move(arch, id2, olCal)
	if err != nil || id3 == id {
		t.Fatalf("move: %s → %s, %v", id, id3, err)
	}
	before := e.storeTitles()
	res = e.syncOutlook("alice", o)
	if res.Committed || len(res.Duplicates) != 0 || !quietOL(res.Outlook) {
		t.Fatalf("moved item: committed %v (%+v), duplicates %v, outlook %+v", res.Committed, res.Changes, res.Duplicates, res.Outlook)
	}
	if got := e.storeTitles(); !slices.Equal(got, before) {
		t.Fatalf("store changed by a move: %q → %q", before, got)
	}
	res = e.syncOutlook("alice", o)
	if res.Committed || !quietOL(res.Outlook) || res.Decoded != 1 {
		t.Fatalf("round after the move: %v %+v decoded %d", res.Committed, res.Outlook, res.Decoded)
	}

	// Final state, in full.
	want = []string{"calendar/" + merge.PrivateTitle, "calendar/Review Q3", "calendar/" + series.Title(), "contacts/Dan Dorn", "contacts/" + photo.Title()}
	if got := e.storeTitles(); !slices.Equal(got, sorted(want)) {
		t.Fatalf("final store:\n got %q\nwant %q", got, sorted(want))
	}
	if cal, _ := outlookTitles(t, o, olCal); !slices.Equal(cal, sorted([]string{"Review Q3", private.Title(), series.Title()})) {
		t.Fatalf("final Outlook calendar: %q", cal)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestOutlookBlocked: a blocked Outlook stops the run with its error and
// nothing committed.
func TestOutlookBlocked(t *testing.T) {
	e := newEnv(t)
	o := fake.New()
	userAdds(t, o, olCal, docOf(t, icsEvent("A1", "Planning")))
	o.Fail = func(op string) error {
		if op == "Read" {
			return outlook.ErrBlocked
		}
		return nil
	}
	_, err := Sync(context.Background(), e.outlookOpts("alice", o))
	var oe *OutlookError
	if !errors.As(err, &oe) || !errors.Is(err, outlook.ErrBlocked) {
		t.Fatalf("blocked Outlook: %v", err)
	}
	if m := e.latest(); m != nil {
		t.Fatalf("committed revision %d", m.Rev)
	}
	_ = fmt.Sprint()
}

func quietOL(r *OutlookResult) bool {
	return r != nil && r.Created+r.Updated+r.Removed == 0 && len(r.PrivateKept)+len(r.Refused) == 0
}

// TestOutlookShare: a --share folder in Outlook is shared as its own
// collection and delivered into the same folder of a colleague's Outlook.
func TestOutlookShare(t *testing.T) {
	e := newEnv(t)
	team := outlook.FolderRef{Kind: outlook.Named, Name: "Team"}
	a, b := fake.New(), fake.New()
	for _, o := range []*fake.Outlook{a, b} {
		o.Now = tick
		o.AddFolder(fake.DefaultStore, "Team", outlook.Calendar)
	}
	userAdds(t, a, olCal, docOf(t, icsEvent("A1", "Own")))
	userAdds(t, a, team, docOf(t, icsEvent("T1", "Offsite")))
	userAdds(t, b, olCal, docOf(t, icsEvent("B1", "Bob's")))
	sync := func(u string, o *fake.Outlook) *Result {
		op := e.outlookOpts(u, o)
		op.Share = []string{"Team"}
		res, err := Sync(context.Background(), op)
		if err != nil {
			t.Fatalf("sync %s: %v", u, err)
		}
		return res
	}
	sync("alice", a)
	sync("bob", b)
	if got, want := e.storeTitles(), []string{"calendar/Bob's", "calendar/Own", "share/Team/Offsite"}; !slices.Equal(got, want) {
		t.Fatalf("store: %q", got)
	}
	if got, _ := outlookTitles(t, b, team); !slices.Equal(got, []string{"Offsite"}) {
		t.Fatalf("bob's Team folder: %q", got)
	}
	if got, _ := outlookTitles(t, b, olCal); !slices.Equal(got, []string{"Bob's", "Own"}) {
		t.Fatalf("bob's calendar: %q", got)
	}
	for _, u := range []string{"alice", "bob", "alice", "bob"} {
		o := a
		if u == "bob" {
			o = b
		}
		if res := sync(u, o); res.Committed {
			t.Fatalf("%s committed in a quiet round: %+v", u, res.Changes)
		}
	}
	if res := sync("alice", a); res.Committed || !quietOL(res.Outlook) {
		t.Fatalf("alice's last round: %+v", res.Outlook)
	}
}

// TestOutlookUnreadable: an item Outlook fails to give is a problem of its
// folder: the other items are read, and nothing is deleted from that
// folder that run; the next clean read deletes what the user deleted.
func TestOutlookUnreadable(t *testing.T) {
	e := newEnv(t)
	o := fake.New()
	o.Now = tick
	a1 := userAdds(t, o, olCal, docOf(t, icsEvent("A1", "One")))
	userAdds(t, o, olCal, docOf(t, icsEvent("A2", "Two")))
	a3 := userAdds(t, o, olCal, docOf(t, icsEvent("A3", "Three")))
	if res := e.syncOutlook("alice", o); res.Added != 3 {
		t.Fatalf("first sync: %+v", res)
	}
	userEdits(t, o, olCal, a1.ID, func(w *outlook.Write) { w.Fields["Location"] = "Room 9" })
	if err := o.Delete(context.Background(), olCal, a3.ID); err != nil {
		t.Fatal(err)
	}
	o.Fail = func(op string) error {
		if op == "Read" {
			o.Fail = nil // the first read fails: A1, the only changed item
			return errors.New("MAPI_E_CORRUPT_DATA")
		}
		return nil
	}
	res := e.syncOutlook("alice", o)
	if res.Committed || res.Deleted != 0 || len(res.Problems) != 1 || res.Problems[0].Source != Calendar {
		t.Fatalf("unreadable item: committed %v deleted %d problems %v", res.Committed, res.Deleted, res.Problems)
	}
	if n := len(e.latest().Collections[Calendar]); n != 3 {
		t.Fatalf("%d items after an unclean read, want 3", n)
	}
	res = e.syncOutlook("alice", o)
	if !res.Committed || res.Deleted != 1 || res.Modified != 1 || len(res.Problems) != 0 {
		t.Fatalf("clean read: %+v", res)
	}
	if got := e.storeTitles(); !slices.Equal(got, []string{"calendar/One", "calendar/Two"}) {
		t.Fatalf("store: %q", got)
	}
}

// TestFreeBusyAfterSync: a sync publishes the user's free/busy file from
// the merged calendar: colleagues' items and the user's own private item
// as busy time, with no summary of it.
func TestFreeBusyAfterSync(t *testing.T) {
	e := newEnv(t)
	o := fake.New()
	o.Now = tick
	set, err := outlook.SelftestSet(time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	private := set[2].Doc
	userAdds(t, o, olCal, private)
	put(t, e.src("bob"), "b1.ics", icsEvent("B1", "Review"))
	e.sync("bob")
	op := e.outlookOpts("alice", o)
	op.FreeBusy = filepath.Join(e.root, "freebusy")
	res, err := Sync(context.Background(), op)
	if err != nil {
		t.Fatal(err)
	}
	if res.FreeBusy != filepath.Join(op.FreeBusy, "alice.vfb") {
		t.Fatalf("free/busy file %q", res.FreeBusy)
	}
	fb := strings.ReplaceAll(read(t, res.FreeBusy), "\r\n", "\n")
	if strings.Count(fb, "\nFREEBUSY") < 2 || !strings.Contains(fb, "20250301T100000Z/") || strings.Contains(fb, private.Title()) {
		t.Fatalf("free/busy file:\n%s", fb)
	}
}

// TestFreeBusyOnlyWhenChanged: a run whose calendar is the last run's does
// not write the free/busy file again (nor decode the calendar for it); a
// change does.
func TestFreeBusyOnlyWhenChanged(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.root, "freebusy")
	syncFB := func(u string) *Result {
		op := e.opts(u)
		op.FreeBusy, op.Now = dir, time.Now
		res, err := Sync(context.Background(), op)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	put(t, e.src("ann"), "a.ics", icsEvent("A1", "One"))
	if res := syncFB("ann"); res.FreeBusy == "" {
		t.Fatal("first run wrote no free/busy file")
	}
	if res := syncFB("ann"); res.FreeBusy != "" || res.Decoded != 0 {
		t.Fatalf("quiet run: free/busy %q, decoded %d", res.FreeBusy, res.Decoded)
	}
	put(t, e.src("bob"), "b.ics", icsEvent("B1", "Two"))
	syncFB("bob")
	if res := syncFB("ann"); res.FreeBusy == "" {
		t.Fatal("a colleague's new item did not renew the free/busy file")
	}
}

// pngPhoto is a small PNG picture as a vCard 4.0 PHOTO data URI.
func pngPhoto(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "PHOTO:data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

// TestOutlookRewritesNotShared: Outlook rewrites parts of every item
// written through its object model (the organizer becomes the PC's user,
// a picture is re-encoded as JPEG). When alice edits one field of an item
// pstsync delivered into her Outlook, only that field is her edit: bob
// receives the new SUMMARY (or job title) and keeps his organizer and
// picture.
func TestOutlookRewritesNotShared(t *testing.T) {
	e := newEnv(t)
	o := fake.New()
	o.Now = tick
	put(t, e.src("bob"), "b1.ics", icsEvent("B1", "Design review", "ORGANIZER;CN=Bob Baker:mailto:bob@example.com",
		"ATTENDEE;CN=Alice;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:alice@example.com",
		"ATTENDEE;CN=Bob Baker;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:bob@example.com"))
	put(t, e.src("bob"), "c1.vcf", vcfCard("C1", "Carol Cole", "N:Cole;Carol;;;", "EMAIL:carol@example.com", pngPhoto(t)))
	e.sync("bob")
	res := e.syncOutlook("alice", o)
	if res.Outlook.Created != 2 {
		t.Fatalf("delivery into Outlook: %+v", res.Outlook)
	}
	before := map[string]*merge.Doc{Calendar: e.doc(Calendar, "B1"), Contacts: e.doc(Contacts, "C1")}

	// Outlook did rewrite them (else this test shows nothing).
	_, cal := outlookTitles(t, o, olCal)
	_, con := outlookTitles(t, o, olCon)
	shown := map[string]*merge.Doc{Calendar: readDoc(t, o, olCal, cal["Design review"].ID), Contacts: readDoc(t, o, olCon, con["Carol Cole"].ID)}
	if got := merge.ChangedKeys(before[Calendar], shown[Calendar]); !slices.Contains(got, "ORGANIZER") {
		t.Fatalf("Outlook kept the organizer (changed: %q): the fake no longer rewrites it", got)
	}
	if got := merge.ChangedKeys(before[Contacts], shown[Contacts]); !slices.Contains(got, "PHOTO") {
		t.Fatalf("Outlook kept the picture (changed: %q): the fake no longer re-encodes it", got)
	}
	if res := e.syncOutlook("alice", o); res.Committed || !quietOL(res.Outlook) {
		t.Fatalf("quiet round after the delivery: committed %v %+v", res.Committed, res.Outlook)
	}

	// alice edits one field of each in Outlook.
	if _, err := o.EditAsUser(olCal, cal["Design review"].ID, func(w *outlook.Write) { w.Fields["Subject"] = "Design review v2" }); err != nil {
		t.Fatal(err)
	}
	if _, err := o.EditAsUser(olCon, con["Carol Cole"].ID, func(w *outlook.Write) { w.Fields["JobTitle"] = "Architect" }); err != nil {
		t.Fatal(err)
	}
	res = e.syncOutlook("alice", o)
	if !res.Committed || res.Modified != 2 || len(res.Conflicts) != 0 {
		t.Fatalf("alice's edits: %+v", res)
	}
	for coll, want := range map[string][]string{Calendar: {"SUMMARY"}, Contacts: {"TITLE"}} {
		uid := map[string]string{Calendar: "B1", Contacts: "C1"}[coll]
		if got := merge.ChangedKeys(before[coll], e.doc(coll, uid)); !slices.Equal(got, want) {
			t.Errorf("%s/%s: alice's edit changed %q in the store, want only %q", coll, uid, got, want)
		}
	}
	// bob gets the new summary with his own organizer and picture.
	e.sync("bob")
	if got := read(t, filepath.Join(e.mailbox("bob"), CalendarDir, FileName("B1")+".ics")); !strings.Contains(got, "SUMMARY:Design review v2") ||
		!strings.Contains(got, "ORGANIZER;CN=Bob Baker:mailto:bob@example.com") || strings.Contains(got, o.User.Address) {
		t.Errorf("bob's copy of the event:\n%s", got)
	}
	if res := e.syncOutlook("alice", o); res.Committed || !quietOL(res.Outlook) {
		t.Fatalf("quiet round after the edit: committed %v %+v", res.Committed, res.Outlook)
	}

	// A second edit of the same item (not written again since: alice's
	// version is the shared one) is again only what she changed.
	before[Calendar] = e.doc(Calendar, "B1")
	if _, err := o.EditAsUser(olCal, cal["Design review"].ID, func(w *outlook.Write) { w.Fields["Location"] = "Room 4" }); err != nil {
		t.Fatal(err)
	}
	if res := e.syncOutlook("alice", o); !res.Committed || res.Modified != 1 {
		t.Fatalf("alice's second edit: %+v", res)
	}
	if got := merge.ChangedKeys(before[Calendar], e.doc(Calendar, "B1")); !slices.Equal(got, []string{"LOCATION"}) {
		t.Errorf("alice's second edit changed %q in the store, want only LOCATION", got)
	}
	// bob changes the event: it is written into alice's Outlook again,
	// and her next edit is again only hers.
	put(t, e.src("bob"), "b1.ics", strings.Replace(read(t, filepath.Join(e.src("bob"), "b1.ics")), "SUMMARY:Design review", "SUMMARY:Design review (final)", 1))
	e.sync("bob")
	if res := e.syncOutlook("alice", o); res.Outlook.Updated != 1 {
		t.Fatalf("bob's change into alice's Outlook: %+v", res.Outlook)
	}
	before[Calendar] = e.doc(Calendar, "B1")
	if _, err := o.EditAsUser(olCal, cal["Design review"].ID, func(w *outlook.Write) { w.Fields["Body"] = "Agenda attached" }); err != nil {
		t.Fatal(err)
	}
	e.syncOutlook("alice", o)
	if got := merge.ChangedKeys(before[Calendar], e.doc(Calendar, "B1")); !slices.Equal(got, []string{"DESCRIPTION"}) {
		t.Errorf("alice's third edit changed %q in the store, want only DESCRIPTION", got)
	}
}

// readDoc reads one Outlook item as a merge doc.
func readDoc(t testing.TB, o *fake.Outlook, f outlook.FolderRef, id string) *merge.Doc {
	t.Helper()
	it, err := o.Read(context.Background(), f, id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := outlook.ToDoc(it)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// doc is the latest shared version of coll/uid, decoded.
func (e *env) doc(coll, uid string) *merge.Doc {
	e.t.Helper()
	d, err := ParseObject([]byte(e.object(coll, uid)), kindOfColl(coll))
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// berlinSeries is a weekly series in Europe/Berlin with a moved and a
// deleted occurrence; summary is the series' SUMMARY, moved the moved
// occurrence's new day (2025-03-DD).
func berlinSeries(uid, summary string, moved int) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
		"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n" +
		"BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
		"END:VTIMEZONE\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20250303T090000\r\nDTEND;TZID=Europe/Berlin:20250303T093000\r\n" +
		"RRULE:FREQ=WEEKLY;COUNT=8;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20250317T090000\r\nSUMMARY:" + summary + "\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20250310T090000\r\n" +
		fmt.Sprintf("DTSTART;TZID=Europe/Berlin:202503%02dT090000\r\nDTEND;TZID=Europe/Berlin:202503%02dT093000\r\n", moved, moved) +
		"SUMMARY:" + summary + " (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

// importOutlookFiles imports every calendar file of the user's newest
// incoming/NNNNNN-outlook folder into o, as the user does on a PC
// without the bridge, and returns what the imports did.
func (e *env) importOutlookFiles(user string, o *fake.Outlook, dir string) fake.ImportResult {
	e.t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "calendar", "*.ics"))
	if err != nil || len(files) == 0 {
		e.t.Fatalf("no calendar files in %s (%v)", dir, err)
	}
	var total fake.ImportResult
	for _, f := range files {
		res, err := o.ImportICS(context.Background(), []byte(read(e.t, f)))
		if err != nil {
			e.t.Fatalf("importing %s: %v", f, err)
		}
		total.Created += res.Created
		total.Updated += res.Updated
		total.Ignored += res.Ignored
		total.IDs = append(total.IDs, res.IDs...)
	}
	return total
}

// outlookDirs lists the user's incoming/NNNNNN-outlook folders, oldest
// first.
func (e *env) outlookDirs(user string) []string {
	e.t.Helper()
	dirs, err := filepath.Glob(filepath.Join(e.mailbox(user), IncomingDir, "*-"+OutlookImportDir))
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(dirs)
	return dirs
}

// scheduleFields are the fields that say when an event and its
// occurrences are, and what they are called: UTC times in one form (an
// iCalendar import gives UTC times Outlook's "UTC" zone), RRULE parts
// sorted.
func scheduleFields(d *merge.Doc) map[string]string {
	out := map[string]string{}
	for k, f := range d.Fields {
		name := k
		if i := strings.LastIndex(k, "/"); i >= 0 {
			name = k[i+1:]
		}
		switch name {
		case "RRULE":
			parts := strings.Split(f.Value, ";")
			slices.Sort(parts)
			out[k] = strings.Join(parts, ";")
			continue
		case "DTSTART", "DTEND", "SUMMARY", "RECURRENCE-ID":
		default:
			if !strings.HasPrefix(name, "EXDATE") {
				continue
			}
		}
		switch tz := strings.Join(f.Params["TZID"], ","); tz {
		case "Etc/UTC":
			out[k] = f.Value + "Z"
		case "":
			out[k] = f.Value
		default:
			out[k] = f.Value + " " + tz
		}
	}
	return out
}

// TestOutlookImportFiles: on a PC without the bridge, the user imports the
// METHOD:REQUEST calendar files of incoming/NNNNNN-outlook into Outlook
// (the fake, with Outlook's documented import: a REQUEST is matched to
// the appointment whose global object id its UID gives, and updates it in
// place). Importing them twice, and the next revision's files after a
// colleague's changes, never duplicates an appointment; the updates land
// in place with the series' moved and deleted occurrences right; an older
// file imported again changes nothing.
func TestOutlookImportFiles(t *testing.T) {
	e := newEnv(t)
	o := fake.New()
	o.Now = tick
	o.Local, _ = time.LoadLocation("Europe/Berlin")
	// alice's own appointment, made in Outlook: the PST path reads it
	// with the UID pst/cal derives from its global object id (stood in
	// for here by a file in her source folder).
	own := userAdds(t, o, olCal, docOf(t, icsEvent("A1", "Planning")))
	ownDoc := readDoc(t, o, olCal, own.ID)
	if !strings.HasPrefix(ownDoc.UID, "040000008200E00074C5B7101A82E008") {
		t.Fatalf("UID of an appointment made in Outlook: %q", ownDoc.UID)
	}
	c, err := merge.ToCalendar(ownDoc)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sink.EncodeICS(&b, c); err != nil {
		t.Fatal(err)
	}
	put(t, e.src("alice"), "planning.ics", b.String())
	e.sync("alice")
	put(t, e.src("bob"), "s1.ics", berlinSeries("S1", "Standup", 11))
	put(t, e.src("bob"), "b1.ics", icsEvent("B1", "Review"))
	e.sync("bob")
	e.sync("alice")
	dirs := e.outlookDirs("alice")
	if len(dirs) != 1 {
		t.Fatalf("outlook import folders after the first sync: %q", dirs)
	}
	check := func(when string, wantIDs []string) []string {
		t.Helper()
		titles, by := outlookTitles(t, o, olCal)
		if len(titles) != 3 {
			t.Fatalf("%s: Outlook calendar holds %q, want 3 appointments", when, titles)
		}
		var ids []string
		for _, title := range titles {
			en := by[title]
			ids = append(ids, en.ID)
			got := readDoc(t, o, olCal, en.ID)
			want := e.doc(Calendar, got.UID)
			if g, w := scheduleFields(got), scheduleFields(want); !maps.Equal(g, w) {
				t.Errorf("%s: %q in Outlook:\n got %v\nwant %v", when, title, g, w)
			}
		}
		slices.Sort(ids)
		if wantIDs != nil && !slices.Equal(ids, wantIDs) {
			t.Errorf("%s: EntryIDs %q, want %q (updated in place)", when, ids, wantIDs)
		}
		return ids
	}
	if res := e.importOutlookFiles("alice", o, dirs[0]); res.Created != 2 || res.Updated != 0 {
		t.Fatalf("first import: %+v", res)
	}
	ids := check("first import", nil)
	if res := e.importOutlookFiles("alice", o, dirs[0]); res.Created != 0 || res.Updated+res.Ignored != 2 {
		t.Fatalf("the same files imported again: %+v", res)
	}
	check("second import of the same files", ids)

	// bob renames the series and moves its occurrence to another day,
	// edits the single event and alice's own appointment.
	put(t, e.src("bob"), "s1.ics", berlinSeries("S1", "Daily standup", 12))
	put(t, e.src("bob"), "b1.ics", icsEvent("B1", "Review Q3"))
	e.importItem("bob", Calendar, ownDoc.UID)
	p := filepath.Join(e.src("bob"), "imported-"+FileName(ownDoc.UID)+".ics")
	put(t, e.src("bob"), filepath.Base(p), strings.Replace(read(t, p), "SUMMARY:Planning", "SUMMARY:Planning (room B)", 1))
	e.sync("bob")
	e.sync("alice")
	dirs = e.outlookDirs("alice")
	if len(dirs) != 2 {
		t.Fatalf("outlook import folders after the second sync: %q", dirs)
	}
	if res := e.importOutlookFiles("alice", o, dirs[1]); res.Created != 0 || res.Updated != 3 {
		t.Fatalf("import of the changes: %+v", res)
	}
	check("import of the changes", ids)
	want := []string{"Daily standup", "Planning (room B)", "Review Q3"}
	if titles, _ := outlookTitles(t, o, olCal); !slices.Equal(titles, want) {
		t.Fatalf("Outlook calendar after the changes: %q", titles)
	}
	// The first revision's files again: out of date, nothing changes.
	if res := e.importOutlookFiles("alice", o, dirs[0]); res.Created != 0 || res.Updated != 0 || res.Ignored != 2 {
		t.Fatalf("old files imported again: %+v", res)
	}
	check("old files imported again", ids)
	if titles, _ := outlookTitles(t, o, olCal); !slices.Equal(titles, want) {
		t.Fatalf("Outlook calendar after the old files: %q", titles)
	}
}

// pstOfOutlook reads the store of a (fake) Outlook as the PST path reads
// the PST file behind it while Outlook is closed: every appointment and
// contact keyed by its node id (here the end of its EntryID) and
// converted by pstMessageItem, as PSTReader does.
// An item the bridge cannot read is an item the PST reader cannot read.
type pstOfOutlook struct{ o outlook.Bridge }

func (p *pstOfOutlook) ReadSide(ctx context.Context, prev *PrevSide) (*Side, error) {
	s := &Side{Collections: map[string]bool{}, Lossy: true}
	for _, coll := range []string{Calendar, Contacts} {
		f, _ := outlook.FolderFor(coll)
		es, err := p.o.List(ctx, f)
		if err != nil {
			return nil, err
		}
		s.Collections[coll] = true
		src := snapshot.Source{Key: coll, Clean: true}
		for _, e := range es {
			it, err := p.o.Read(ctx, f, e.ID)
			if err != nil {
				s.Problems = append(s.Problems, Problem{Source: coll, Item: e.ID, Err: err.Error()})
				src.Clean = false
				continue
			}
			x, err := pstMessageItem(it.Msg, pst.KindOf(it.Msg.Class()), coll, "nid:"+e.ID[len(e.ID)-8:], prev, contact.DistListOptions{})
			if err != nil {
				return nil, err
			}
			if x == nil {
				continue
			}
			src.Items++
			if x.Doc != nil {
				s.Decoded++
			}
			s.Items = append(s.Items, *x)
		}
		s.Sources = append(s.Sources, src)
	}
	return s, nil
}

// TestOutlookPathSwitch: a PC syncs through the bridge while Outlook runs
// and from the PST file while it is closed. The items pstsync wrote into
// Outlook carry their shared UID in a user property, which the PST path
// reads too, and what Outlook rewrote in them is no edit either way: a
// switch in either direction commits nothing, deletes nothing and makes
// no duplicate, and an edit read from the PST is only what the user
// changed.
func TestOutlookPathSwitch(t *testing.T) {
	e := newEnv(t)
	o := fake.New()
	o.Now = tick
	put(t, e.src("bob"), "b1.ics", icsEvent("B1", "Design review", "ORGANIZER;CN=Bob Baker:mailto:bob@example.com",
		"ATTENDEE;CN=Alice;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:alice@example.com"))
	put(t, e.src("bob"), "c1.vcf", vcfCard("C1", "Carol Cole", "N:Cole;Carol;;;", "EMAIL:carol@example.com", pngPhoto(t)))
	e.sync("bob")
	userAdds(t, o, olCal, docOf(t, icsEvent("A1", "Planning")))
	if res := e.syncOutlook("alice", o); res.Outlook.Created != 2 || res.Added != 1 {
		t.Fatalf("alice's first sync through the bridge: added %d, %+v", res.Added, res.Outlook)
	}
	pstSync := func(when string) *Result {
		t.Helper()
		op := e.outlookOpts("alice", o)
		op.Outlook, op.PST, op.pstReader = nil, filepath.Join(e.root, "alice.pst"), &pstOfOutlook{o}
		res, err := Sync(context.Background(), op)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return res
	}
	before := e.storeTitles()
	for i, sync := range []func() *Result{
		func() *Result { return pstSync("first sync from the PST") },
		func() *Result { return pstSync("second sync from the PST") },
		func() *Result { return e.syncOutlook("alice", o) },
	} {
		res := sync()
		if res.Committed || res.Deleted != 0 || len(res.Duplicates) != 0 || (res.Outlook != nil && !quietOL(res.Outlook)) {
			t.Fatalf("switch %d: committed %v %+v, deleted %d, duplicates %v, outlook %+v", i, res.Committed, res.Changes, res.Deleted, res.Duplicates, res.Outlook)
		}
	}
	if got := e.storeTitles(); !slices.Equal(got, before) {
		t.Fatalf("store after switching: %q, want %q", got, before)
	}

	// alice edits the event; the PST path reads it: only SUMMARY is hers.
	_, cal := outlookTitles(t, o, olCal)
	prev := e.doc(Calendar, "B1")
	if _, err := o.EditAsUser(olCal, cal["Design review"].ID, func(w *outlook.Write) { w.Fields["Subject"] = "Design review v2" }); err != nil {
		t.Fatal(err)
	}
	if res := pstSync("edit read from the PST"); !res.Committed || res.Modified != 1 || len(res.Duplicates) != 0 {
		t.Fatalf("edit read from the PST: %+v", res)
	}
	if got := merge.ChangedKeys(prev, e.doc(Calendar, "B1")); !slices.Equal(got, []string{"SUMMARY"}) {
		t.Errorf("alice's edit read from the PST changed %q, want only SUMMARY", got)
	}
	if res := e.syncOutlook("alice", o); res.Committed || !quietOL(res.Outlook) {
		t.Fatalf("back to the bridge: committed %v %+v", res.Committed, res.Outlook)
	}
}
