package syncer

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/merge"
	"github.com/pstsync/pstsync/outlook"
	"github.com/pstsync/pstsync/outlook/fake"
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
