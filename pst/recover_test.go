package pst

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
)

// recoverSample is the repository sample these tests damage: Unicode,
// 31 messages, 21 contacts, 9 appointments in 18 folders.
const recoverSample = "aspose__Test_part1.pst"

func readSample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.Sample(t, recoverSample))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openBytes(t *testing.T, b []byte) *File {
	t.Helper()
	f, err := NewFileRecover(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// salvageAll walks f and salvages every item: kinds counted, the folders
// they were found in, and the listing errors.
func salvageAll(t *testing.T, f *File) (kinds map[Kind]int, folderOf map[uint32]string, err error) {
	t.Helper()
	kinds, folderOf = map[Kind]int{}, map[uint32]string{}
	err = f.Walk(context.Background(), func(fo *Folder) error {
		if fo.IsSearchFolder() {
			return nil
		}
		refs, _ := fo.Items()
		for _, r := range refs {
			m, err := f.Salvage(r.NID)
			if err != nil {
				continue
			}
			kinds[KindOf(m.Class())]++
			folderOf[r.NID] = fo.PathString()
			m.Release()
		}
		return nil
	})
	return kinds, folderOf, err
}

var wantPart1 = map[Kind]int{KindMail: 31, KindContact: 21, KindAppointment: 9}

func checkKinds(t *testing.T, got map[Kind]int) {
	t.Helper()
	for _, k := range Kinds {
		if got[k] != wantPart1[k] {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], wantPart1[k], got)
		}
	}
}

// nbtRoot returns the offset of the node B-tree's root page (Unicode).
func nbtRoot(b []byte) int { return int(binary.LittleEndian.Uint64(b[224:])) }

// TestIntactFileNotScanned: an intact file reports no damage and is never
// scanned (a scan would bring back superseded copies).
func TestIntactFileNotScanned(t *testing.T) {
	for _, p := range testutil.AllSamples(t) {
		f, err := OpenRecover(p)
		if err != nil {
			continue // the NEGATIVE header sample
		}
		if len(f.Damage()) != 0 || f.Recovered() != 0 {
			t.Errorf("%s: damage %v, %d entries recovered", p, f.Damage(), f.Recovered())
		}
		f.Close()
	}
}

// TestLostNodeBTreeRoot: with the node B-tree's root page zeroed, the page
// scan finds its leaf pages again: every item comes back, in its folder.
func TestLostNodeBTreeRoot(t *testing.T) {
	orig := readSample(t)
	_, wantFolders, err := salvageAll(t, openBytes(t, orig))
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), orig...)
	clear(b[nbtRoot(b) : nbtRoot(b)+512])
	f := openBytes(t, b)
	if len(f.Damage()) == 0 || f.Recovered() == 0 {
		t.Fatalf("damage %v, %d recovered: want the root page reported and entries recovered", f.Damage(), f.Recovered())
	}
	kinds, folders, _ := salvageAll(t, f)
	checkKinds(t, kinds)
	for nid, fo := range wantFolders {
		if folders[nid] != fo {
			t.Errorf("item %#x in %q, want %q", nid, folders[nid], fo)
		}
	}
}

// TestStrictOpenRefusesDamage: Open, which a sync uses, fails on a lost
// index page as it always has, instead of reading a file with items
// missing (which a sync would take for deletions) or found again from
// old copies.
func TestStrictOpenRefusesDamage(t *testing.T) {
	b := readSample(t)
	clear(b[nbtRoot(b) : nbtRoot(b)+512])
	if _, err := NewFile(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), "node B-tree") {
		t.Errorf("strict open of a file without its node B-tree root: %v, want an error naming it", err)
	}
}

// TestTruncatedPastBlockRoot: cut short just before the block B-tree's
// root page (the last thing this file wrote), the file still opens, the
// scan rebuilds the block index from its leaf pages, and every item whose
// data lies before the cut comes back.
func TestTruncatedPastBlockRoot(t *testing.T) {
	orig := readSample(t)
	cut := int(binary.LittleEndian.Uint64(orig[240:]))
	f := openBytes(t, orig[:cut])
	if len(f.Damage()) == 0 || f.Recovered() == 0 {
		t.Fatalf("damage %v, %d recovered", f.Damage(), f.Recovered())
	}
	kinds, _, _ := salvageAll(t, f)
	checkKinds(t, kinds)
}

// TestRootFolderUnreadable: a root folder whose data is gone is replaced
// by an empty one, and every folder below it is still found.
func TestRootFolderUnreadable(t *testing.T) {
	orig := readSample(t)
	f0 := openBytes(t, orig)
	e := f0.d.bbt[f0.d.nbt[nidRootFolder].bidData&^1]
	b := append([]byte(nil), orig...)
	clear(b[e.ib : e.ib+int64(e.cb)])
	f := openBytes(t, b)
	if _, err := f.Root(); err == nil {
		t.Error("Root: no error for a root folder whose data is zeroed")
	}
	kinds, _, err := salvageAll(t, f)
	if err == nil || !strings.Contains(err.Error(), "folder 0x122") {
		t.Errorf("walk error %v, want the root folder named", err)
	}
	checkKinds(t, kinds)
}

// TestContentsTableLost: a folder whose contents table is gone still
// lists its items (found through their parent ids), with an error.
func TestContentsTableLost(t *testing.T) {
	orig := readSample(t)
	f0 := openBytes(t, orig)
	var target *Folder
	var want int
	f0.Walk(context.Background(), func(fo *Folder) error {
		if refs, _ := fo.Items(); len(refs) > want && !fo.IsSearchFolder() {
			target, want = fo, len(refs)
		}
		return nil
	})
	ct := target.NID&^0x1F | nidTypeContentsTable
	e := f0.d.bbt[f0.d.nbt[ct].bidData&^1]
	b := append([]byte(nil), orig...)
	clear(b[e.ib : e.ib+int64(e.cb)])
	f := openBytes(t, b)
	var refs []ItemRef
	var err error
	f.Walk(context.Background(), func(fo *Folder) error {
		if fo.NID == target.NID {
			refs, err = fo.Items()
		}
		return nil
	})
	if err == nil || len(refs) != want {
		t.Errorf("%s: %d items, error %v; want all %d and an error", target.PathString(), len(refs), err, want)
	}
	kinds, _, _ := salvageAll(t, f)
	checkKinds(t, kinds)
}

// TestOrphansRecovered: items whose folder's node is gone from the node
// B-tree come back under Recovered.
func TestOrphansRecovered(t *testing.T) {
	orig := readSample(t)
	f0 := openBytes(t, orig)
	var target *Folder
	var want int
	f0.Walk(context.Background(), func(fo *Folder) error {
		if refs, _ := fo.Items(); len(refs) > want && !fo.IsSearchFolder() {
			target, want = fo, len(refs)
		}
		return nil
	})
	// Rename the folder's entry in its NBT leaf page to an unused node id
	// (checksum fixed, so nothing looks damaged to the walk): its items'
	// parent id now names no folder.
	b := append([]byte(nil), orig...)
	var key [8]byte
	binary.LittleEndian.PutUint64(key[:], uint64(target.NID))
	found := false
	for off := amapFirst; off+512 <= len(b) && !found; off += 512 {
		p := b[off : off+512]
		if p[496] != ptypeNBT || p[497] != ptypeNBT || p[491] != 0 || msCRC(p[:496]) != binary.LittleEndian.Uint32(p[500:]) {
			continue
		}
		if _, ok := f0.d.nbt[target.NID]; !ok {
			t.Fatal("no entry")
		}
		for i := 0; i < int(p[488]); i++ {
			e := p[i*32 : i*32+32]
			if bytes.Equal(e[:8], key[:]) && f0.d.nbt[target.NID].bidData == binary.LittleEndian.Uint64(e[8:]) {
				binary.LittleEndian.PutUint64(e, uint64(0x7FFFFFE0|nidTypeNormalFolder))
				binary.LittleEndian.PutUint32(p[500:], msCRC(p[:496]))
				found = true
			}
		}
	}
	if !found {
		t.Fatal("folder entry not found in a leaf page")
	}
	f := openBytes(t, b)
	kinds, folders, _ := salvageAll(t, f)
	checkKinds(t, kinds)
	recovered := 0
	for _, fo := range folders {
		if strings.HasPrefix(fo, RecoveredFolder) {
			recovered++
		}
	}
	if recovered < want {
		t.Errorf("%d items under %s, want at least the %d of %s", recovered, RecoveredFolder, want, target.PathString())
	}
}

// TestSalvageKeepsReadableParts: an item whose attachment cannot be read
// fails with Message, and Salvage returns it without the attachment,
// naming it in Missing.
func TestSalvageKeepsReadableParts(t *testing.T) {
	b, err := os.ReadFile(testutil.Sample(t, "tika__testPST.pst"))
	if err != nil {
		t.Fatal(err)
	}
	b[20812] ^= 0xFF // in the attachment subnode tree of one message
	f := openBytes(t, b)
	failed, partial := 0, 0
	f.Walk(context.Background(), func(fo *Folder) error {
		refs, _ := fo.Items()
		for _, r := range refs {
			_, merr := f.Message(r.NID)
			m, serr := f.Salvage(r.NID)
			if serr != nil {
				t.Errorf("salvage %#x: %v", r.NID, serr)
				continue
			}
			if merr != nil {
				failed++
				if len(m.Missing) == 0 || !strings.HasPrefix(m.Missing[0], "attachment 0:") {
					t.Errorf("salvaged %#x misses %q, want attachment 0", r.NID, m.Missing)
				}
				if m.Subject() == "" {
					t.Errorf("salvaged %#x has no subject", r.NID)
				}
			}
			if len(m.Missing) > 0 {
				partial++
			}
		}
		return nil
	})
	if failed != 1 || partial != 1 {
		t.Errorf("%d items failed with Message, %d partial with Salvage; want 1 and 1", failed, partial)
	}
}
