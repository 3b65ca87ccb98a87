package contact

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pstsync/pstsync/pst"
)

// Real member values of the distribution list in java-libpst's
// dist-list.pst (PidLidDistributionListMembers[0] and
// PidLidDistributionListOneOffMembers[0]).
const (
	realWrapped = "00000000c091add3519dcf11a4a900aa0047faa4c3" +
		"00000000a41d63dbc53b8e4ab8071e15e55750ce64002000"
	realOneOff = "00000000812b1fa4bea310199d6e00dd010f5402000001806300" +
		"6f006e00740061006300740020006e0061006d00650020003100000053004d0054" +
		"005000000063006f006e0074006100630074003100400072006a006f0068006e00" +
		"73006f006e002e00690064002e00610075000000"
)

func TestParseRealEntryIDs(t *testing.T) {
	w, err := ParseWrapped(mustHex(realWrapped))
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != WrappedContact || w.AddressIndex != 4 || w.EmailIndex() != 1 {
		t.Errorf("wrapped = kind %d index %d email %d", w.Kind, w.AddressIndex, w.EmailIndex())
	}
	if n, ok := EntryIDNID(w.Embedded); !ok || n != 0x200064 {
		t.Errorf("embedded NID = %#x %v", n, ok)
	}
	o, err := ParseOneOff(mustHex(realOneOff))
	if err != nil {
		t.Fatal(err)
	}
	want := OneOff{DisplayName: "contact name 1", AddressType: "SMTP", Address: "contact1@rjohnson.id.au", Unicode: true, NoRichInfo: true}
	if o != want {
		t.Errorf("one-off = %+v, want %+v", o, want)
	}
}

func TestParseOneOff(t *testing.T) {
	valid8 := mkOneOff("Zoë “Q”", "SMTP", "zoe@example.org", false)
	// Re-encode the name as Windows-1252 bytes (ë = EB, “ = 93, ” = 94).
	cp := append([]byte{}, valid8[:24]...)
	cp = append(cp, []byte("Zo\xeb \x93Q\x94\x00SMTP\x00zoe@example.org\x00")...)
	tests := []struct {
		name    string
		in      []byte
		want    OneOff
		wantErr error
	}{
		{"unicode", mkOneOff("Zoë", "SMTP", "zoe@example.org", true), OneOff{"Zoë", "SMTP", "zoe@example.org", true, true}, nil},
		{"8-bit utf-8", valid8, OneOff{"Zoë “Q”", "SMTP", "zoe@example.org", false, true}, nil},
		{"8-bit cp1252", cp, OneOff{"Zoë “Q”", "SMTP", "zoe@example.org", false, true}, nil},
		{"truncated address kept", mkOneOff("A", "SMTP", "a@b.c", true)[:24+4+10+6], OneOff{"A", "SMTP", "a@b", true, true}, nil},
		{"short", mkOneOff("A", "SMTP", "a@b.c", true)[:23], OneOff{}, ErrShortEntryID},
		{"wrong provider", mkWrapped(WrappedContact, 4, mkPSTEntryID(5)), OneOff{}, ErrNotOneOff},
		{"no name terminator", mkOneOff("", "", "", true)[:24], OneOff{Unicode: true, NoRichInfo: true}, ErrBadStringField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOneOff(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseMemberEntryID(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		wantName string
		wantAddr string
		kind     int // -1: not wrapped
		wantErr  bool
	}{
		{"one-off", mkOneOff("A", "SMTP", "a@x.org", true), "A", "a@x.org", -1, false},
		{"wrapped one-off", mkWrapped(WrappedOneOff, 0, mkOneOff("B", "SMTP", "b@x.org", false)), "B", "b@x.org", WrappedOneOff, false},
		{"wrapped contact", mkWrapped(WrappedContact, 5, mkPSTEntryID(0x200044)), "", "", WrappedContact, false},
		{"wrapped gal", mkWrapped(WrappedGALMailUser, 3, []byte{0, 0, 0, 0, 0xDC, 0xA7}), "", "", WrappedGALMailUser, false},
		{"wrapped broken one-off", mkWrapped(WrappedOneOff, 0, []byte{1, 2}), "", "", WrappedOneOff, true},
		{"unknown provider", bytes.Repeat([]byte{7}, 40), "", "", -1, true},
		{"tiny", []byte{0, 0}, "", "", -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMemberEntryID(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if m.Name != tc.wantName || m.Address != tc.wantAddr {
				t.Errorf("got %q <%s>", m.Name, m.Address)
			}
			switch {
			case tc.kind < 0 && m.Wrapped != nil:
				t.Errorf("unexpected wrapped %+v", m.Wrapped)
			case tc.kind >= 0 && (m.Wrapped == nil || m.Wrapped.Kind != tc.kind):
				t.Errorf("wrapped = %+v, want kind %d", m.Wrapped, tc.kind)
			}
		})
	}
}

func distList(members, oneOffs [][]byte, extra ...pst.Property) *pst.Message {
	ps := []pst.Property{
		pS(pst.TagMessageClass, "IPM.DistList"),
		pS(pst.TagDisplayName, "Team"),
	}
	if members != nil {
		ps = append(ps, pMB(nid(lidDistListMembers), members...))
	}
	if oneOffs != nil {
		ps = append(ps, pMB(nid(lidDistListOneOffMember), oneOffs...))
	}
	return msg(append(ps, extra...)...)
}

func TestDistListToVCard(t *testing.T) {
	contactEID := mkWrapped(WrappedContact, 4, mkPSTEntryID(0x200064))
	nestedEID := mkWrapped(WrappedPersonalDL, 3, mkPSTEntryID(0x2000A4))
	galEID := mkWrapped(WrappedGALMailUser, 3, []byte{0, 0, 0, 0, 1, 2, 3})
	resolver := DistListOptions{
		Resolve: func(eid []byte) (string, string, bool) {
			switch {
			case bytes.Equal(eid, contactEID):
				return "Carol Contact", "carol@home.example", true
			case bytes.Equal(eid, nestedEID):
				return "Nested List", "", true
			}
			return "", "", false
		},
		ResolveUID: func(eid []byte) (string, bool) {
			if bytes.Equal(eid, nestedEID) {
				return "urn:uuid:00000000-0000-5000-8000-000000000001", true
			}
			return "", false
		},
	}
	members := [][]byte{
		contactEID,
		mkOneOff("Dan One-Off", "SMTP", "dan@x.example", true),
		nestedEID,
		galEID,
		mkOneOff("Dan Again", "SMTP", "DAN@x.example", false),
		[]byte("garbage entry id"),
		mkOneOff("Eve Exchange", "EX", "/o=Corp/cn=eve", true),
	}
	oneOffs := [][]byte{
		mkOneOff("Carol (one-off copy)", "SMTP", "carol@work.example", true),
		mkOneOff("Dan One-Off", "SMTP", "dan@x.example", true),
		mkOneOff("Nested List", "MAPIPDL", "", true),
		mkOneOff("Gail Gal", "SMTP", "gail@corp.example", true),
		mkOneOff("Dan Again", "SMTP", "DAN@x.example", false),
		mkOneOff("Fay Fallback", "SMTP", "fay@x.example", true),
		mkOneOff("Eve Exchange", "EX", "/o=Corp/cn=eve", true),
	}
	common := []pst.Property{
		pS(pst.TagBody, "About\r\nthe team"),
		pMS(keywordsID, "Work"),
		pT(pst.TagLastModificationTime, "2014-05-25T13:57:41Z"),
	}
	tests := []struct {
		name string
		m    *pst.Message
		opts []DistListOptions
		want []string
	}{
		{
			name: "resolved",
			m:    distList(members, oneOffs, common...),
			opts: []DistListOptions{resolver},
			want: []string{
				"MEMBER;X-CN=Carol Contact:mailto:carol@home.example",
				"MEMBER;X-CN=Dan One-Off:mailto:dan@x.example",
				"MEMBER;X-CN=Nested List:urn:uuid:00000000-0000-5000-8000-000000000001",
				"MEMBER;X-CN=Gail Gal:mailto:gail@corp.example",
				"MEMBER;X-CN=Fay Fallback:mailto:fay@x.example",
				"X-MS-MEMBER;X-CN=Eve Exchange;X-MS-ADDRTYPE=EX:/o=Corp/cn=eve",
				"NOTE:About\nthe team",
				"CATEGORIES:Work",
				"REV:20140525T135741Z",
			},
		},
		{
			name: "no resolver uses one-off copies",
			m:    distList(members, oneOffs),
			want: []string{
				"MEMBER;X-CN=Carol (one-off copy):mailto:carol@work.example",
				"MEMBER;X-CN=Dan One-Off:mailto:dan@x.example",
				"X-MS-MEMBER;X-CN=Nested List;X-MS-ADDRTYPE=MAPIPDL:",
				"MEMBER;X-CN=Gail Gal:mailto:gail@corp.example",
				"MEMBER;X-CN=Fay Fallback:mailto:fay@x.example",
				"X-MS-MEMBER;X-CN=Eve Exchange;X-MS-ADDRTYPE=EX:/o=Corp/cn=eve",
			},
		},
		{
			name: "one-offs only, name from PidLidDistributionListName",
			m: msg(
				pS(nid(lidDistListName), "Only One-Offs"),
				pMB(nid(lidDistListOneOffMember), mkOneOff("Ann", "SMTP", "ann@x.example", true)),
			),
			want: []string{"MEMBER;X-CN=Ann:mailto:ann@x.example"},
		},
		{
			name: "empty list",
			m:    msg(pS(pst.TagSubject, "Empty")),
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DistListToVCard(tc.m, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			fn := "Team"
			switch tc.name {
			case "one-offs only, name from PidLidDistributionListName":
				fn = "Only One-Offs"
			case "empty list":
				fn = "Empty"
			}
			want := append([]string{"VERSION:4.0", "KIND:group", "UID:" + UID(tc.m), "FN:" + fn}, tc.want...)
			diffLines(t, lines(c), want)
		})
	}
}

func TestDistListMembersErr(t *testing.T) {
	// An undecodable member without a one-off copy is reported.
	m := distList([][]byte{[]byte("garbage entry id")}, nil)
	ms := DistListMembers(m)
	if len(ms) != 1 || ms[0].Err == nil {
		t.Fatalf("members = %+v", ms)
	}
	// With a usable one-off copy the error is cleared.
	m = distList([][]byte{[]byte("garbage entry id")}, [][]byte{mkOneOff("A", "SMTP", "a@x.example", true)})
	ms = DistListMembers(m)
	if len(ms) != 1 || ms[0].Err != nil || ms[0].Address != "a@x.example" {
		t.Fatalf("members = %+v", ms)
	}
}

func TestFileOptionsNilFile(t *testing.T) {
	o := FileOptions(nil)
	eid := mkWrapped(WrappedContact, 4, mkPSTEntryID(0x200064))
	if _, _, ok := o.Resolve(eid); ok {
		t.Error("Resolve with nil file succeeded")
	}
	if _, ok := o.ResolveUID(eid); ok {
		t.Error("ResolveUID with nil file succeeded")
	}
	if _, _, ok := o.Resolve(mkOneOff("A", "SMTP", "a@x", true)); ok {
		t.Error("Resolve of a one-off succeeded")
	}
}

func FuzzParseMemberEntryID(f *testing.F) {
	f.Add(mustHex(realWrapped))
	f.Add(mustHex(realOneOff))
	f.Add(mkOneOff("Zoë", "SMTP", "zoe@example.org", false))
	f.Add(mkWrapped(WrappedOneOff, 0, mkOneOff("B", "SMTP", "b@x.org", true)))
	f.Add(mkWrapped(WrappedOneOff, 0, mkWrapped(WrappedOneOff, 0, nil)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMemberEntryID(b)
		if err == nil && m.Wrapped == nil && !IsOneOff(b) {
			t.Fatalf("accepted non one-off %x", b)
		}
		_, _ = ParseOneOff(b)
		if w, err := ParseWrapped(b); err == nil {
			if w.Kind < 0 || w.Kind > 15 || w.AddressIndex > 7 {
				t.Fatalf("bad wrapped %+v", w)
			}
			_, _ = EntryIDNID(w.Embedded)
		}
		// Distribution list conversion over arbitrary member bytes.
		if _, err := DistListToVCard(distList([][]byte{b}, [][]byte{b})); err != nil {
			t.Fatal(err)
		}
	})
}
