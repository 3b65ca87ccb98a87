package pst_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gopst "github.com/mooijtech/go-pst/v6/pkg"
	"github.com/mooijtech/go-pst/v6/pkg/properties"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// goPSTView is what go-pst v6.0.2, an independent reader, sees: message node
// ids per folder name, and subjects of mail items.
type goPSTView struct {
	folders  map[string]map[uint32]bool
	subjects map[uint32]string
}

func readWithGoPST(path string) (v *goPSTView, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, os.ErrInvalid // go-pst panics on some files
		}
	}()
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	// go-pst prints a line per unmapped message class to stdout
	stdout := os.Stdout
	os.Stdout, _ = os.Open(os.DevNull)
	defer func() { os.Stdout = stdout }()
	f, err := gopst.New(fh)
	if err != nil {
		return nil, err
	}
	v = &goPSTView{folders: map[string]map[uint32]bool{}, subjects: map[uint32]string{}}
	err = f.WalkFolders(func(fo *gopst.Folder) error {
		it, err := fo.GetMessageIterator()
		if err != nil {
			return nil // go-pst's own limit, e.g. an empty contents table
		}
		nids := v.folders[fo.Name]
		if nids == nil {
			nids = map[uint32]bool{}
			v.folders[fo.Name] = nids
		}
		for it.Next() {
			m := it.Value()
			nids[uint32(m.Identifier)] = true
			if pm, ok := m.Properties.(*properties.Message); ok {
				v.subjects[uint32(m.Identifier)] = pm.GetSubject()
			}
		}
		return nil
	})
	return v, err
}

// TestAgainstGoPST compares our reader with go-pst on every sample go-pst
// can read (it fails on ANSI files, cyclic encryption and damaged
// headers): the same items in the same folders, the same subjects.
func TestAgainstGoPST(t *testing.T) {
	compared := 0
	for _, path := range testutil.AllSamples(t) {
		name := filepath.Base(path)
		theirs, err := readWithGoPST(path)
		if err != nil {
			t.Logf("%s: go-pst cannot read it (%v); not compared", name, err)
			continue
		}
		f, err := pst.Open(path)
		if err != nil {
			t.Errorf("%s: go-pst reads it but we do not: %v", name, err)
			continue
		}
		ours := map[string]map[uint32]bool{}
		subjects := map[uint32]string{}
		f.Walk(context.Background(), func(fo *pst.Folder) error {
			refs, _ := fo.Items()
			nids := ours[fo.Name]
			if nids == nil {
				nids = map[uint32]bool{}
				ours[fo.Name] = nids
			}
			for _, r := range refs {
				nids[r.NID] = true
				if m, err := f.Message(r.NID); err == nil {
					subjects[r.NID] = m.Subject()
				}
			}
			return nil
		})
		f.Close()
		for folder, nids := range theirs.folders {
			for nid := range nids {
				if !ours[folder][nid] {
					t.Errorf("%s: go-pst finds item %#x in %q, we do not", name, nid, folder)
				}
			}
		}
		for folder, nids := range ours {
			for nid := range nids {
				if theirs.folders[folder] != nil && !theirs.folders[folder][nid] {
					t.Errorf("%s: we find item %#x in %q, go-pst does not", name, nid, folder)
				}
			}
		}
		for nid, s := range theirs.subjects {
			// go-pst keeps the "\x01<n>" prefix marker we strip
			if s = stripMarker(s); s != subjects[nid] {
				t.Errorf("%s: item %#x subject %q, go-pst %q", name, nid, subjects[nid], s)
			}
		}
		compared++
	}
	if compared < 15 {
		t.Errorf("only %d samples compared with go-pst", compared)
	}
}

func stripMarker(s string) string {
	if len(s) >= 2 && s[0] == 0x01 {
		return s[2:]
	}
	return strings.TrimRight(s, "\x00")
}
