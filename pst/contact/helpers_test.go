package contact

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/pst"
)

// testNamer maps PSETID_Address LIDs to ids 0x9000+(lid-0x8000), so a
// converter that used a LID as a property id would find nothing.
var testNamer = pst.MapNamer{}

const keywordsID uint16 = 0xA001

func init() {
	testNamer[pst.NamedKey{Set: pst.PSPublicStrings, Name: nameKeywords}] = keywordsID
}

// nid returns the test property id of a PSETID_Address LID.
func nid(lid uint32) uint16 {
	id := uint16(0x9000 + lid - 0x8000)
	testNamer[pst.NamedKey{Set: pst.PSETIDAddress, LID: lid}] = id
	return id
}

func pS(id uint16, v string) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeString, Value: v}
}

func pI(id uint16, v int32) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeInt32, Value: v}
}

func pB(id uint16, v []byte) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeBinary, Value: v}
}

func pT(id uint16, v string) pst.Property {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		panic(err)
	}
	return pst.Property{ID: id, Type: pst.TypeTime, Value: t.UTC()}
}

func pMS(id uint16, v ...string) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeMultiString, Value: v}
}

func pMB(id uint16, v ...[]byte) pst.Property {
	return pst.Property{ID: id, Type: pst.TypeMultiBinary, Value: v}
}

func msg(ps ...pst.Property) *pst.Message {
	return &pst.Message{NID: 0x200024, Props: pst.NewProps(testNamer, ps...)}
}

// lines renders a card as sorted "KEY;P1=a,b;P2=c:value" lines (raw values,
// parameters sorted), leaving out the keys in skip.
func lines(c vcard.Card, skip ...string) []string {
	var out []string
	for k, fs := range c {
		if contains(skip, k) {
			continue
		}
		for _, f := range fs {
			var ps []string
			for pk, pv := range f.Params {
				ps = append(ps, pk+"="+strings.Join(pv, ","))
			}
			sort.Strings(ps)
			l := k
			if len(ps) > 0 {
				l += ";" + strings.Join(ps, ";")
			}
			out = append(out, l+":"+f.Value)
		}
	}
	sort.Strings(out)
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	sort.Strings(want)
	g := map[string]int{}
	for _, l := range got {
		g[l]++
	}
	w := map[string]int{}
	for _, l := range want {
		w[l]++
	}
	for l, n := range w {
		if g[l] != n {
			t.Errorf("missing (want %d, got %d): %q", n, g[l], l)
		}
	}
	for l, n := range g {
		if w[l] != n {
			t.Errorf("unexpected (got %d, want %d): %q", n, w[l], l)
		}
	}
}

// mkOneOff builds a One-Off EntryID.
func mkOneOff(name, typ, addr string, unicode bool) []byte {
	b := make([]byte, 4, 64)
	b = append(b, oneOffProviderUID...)
	flags := uint16(0x0001)
	if unicode {
		flags |= oneOffUnicode
	}
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, flags)
	for _, s := range []string{name, typ, addr} {
		if unicode {
			for _, u := range utf16.Encode([]rune(s)) {
				b = binary.LittleEndian.AppendUint16(b, u)
			}
			b = append(b, 0, 0)
		} else {
			b = append(b, s...)
			b = append(b, 0)
		}
	}
	return b
}

// mkWrapped builds a WrappedEntryId.
func mkWrapped(kind, index byte, embedded []byte) []byte {
	b := make([]byte, 4, 64)
	b = append(b, wrappedProviderUID...)
	t := kind | index<<4
	if kind != WrappedOneOff {
		t |= 0x80
	}
	b = append(b, t)
	return append(b, embedded...)
}

// mkPSTEntryID builds a PST message EntryID for nid.
func mkPSTEntryID(nid uint32) []byte {
	b := make([]byte, 4, 24)
	b = append(b, []byte("0123456789abcdef")...)
	return binary.LittleEndian.AppendUint32(b, nid)
}

func mustHex(s string) []byte {
	s = strings.Join(strings.Fields(s), "")
	b := make([]byte, len(s)/2)
	for i := range b {
		if _, err := fmt.Sscanf(s[2*i:2*i+2], "%02x", &b[i]); err != nil {
			panic(err)
		}
	}
	return b
}
