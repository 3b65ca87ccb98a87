package outlook

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/pst"
)

// subset keeps of m only what the COM adapter reads through Outlook: the
// properties of refs, the recipient columns it asks for, the exceptions'
// properties and a contact's picture. It emulates the read path on PST
// items.
func subset(m *pst.Message, refs []PropRef) *pst.Message {
	copyProps := func(p *pst.Props, refs []PropRef) *pst.Props {
		b := NewPropBag()
		b.Set(PropRef{Tag: pst.TagMessageClass, Type: pst.TypeString}, p.String(pst.TagMessageClass))
		for _, r := range refs {
			id := r.Tag
			switch {
			case id != 0:
			case r.Name != "":
				id = p.NamedStrID(r.Set, r.Name)
			default:
				id = p.NamedID(r.Set, r.LID)
			}
			if x, ok := p.Get(id); ok && id != 0 {
				b.Set(PropRef{Tag: r.Tag, Set: r.Set, LID: r.LID, Name: r.Name, Type: x.Type}, x.Value)
			}
		}
		return b.Props()
	}
	recips := func(rs []*pst.Props) []*pst.Props {
		var out []*pst.Props
		for _, r := range rs {
			var ps []pst.Property
			for _, tag := range []uint16{pst.TagDisplayName, pst.TagEmailAddress, pst.TagSMTPAddress, pst.TagAddrType,
				pst.TagRecipientType, pst.TagRecipientFlags, pst.TagRecipientTrackStatus} {
				if x, ok := r.Get(tag); ok {
					ps = append(ps, x)
				}
			}
			out = append(out, pst.NewProps(nil, ps...))
		}
		return out
	}
	out := &pst.Message{Props: copyProps(m.Props, refs), Recipients: recips(m.Recipients)}
	for _, a := range m.Attachments {
		switch {
		case a.Embedded != nil && strings.HasPrefix(strings.ToLower(a.Embedded.Class()), "ipm.ole.class."):
			em := &pst.Message{Props: copyProps(a.Embedded.Props, []PropRef{{Tag: pst.TagBody, Type: pst.TypeString},
				PropStartWhole, PropEndWhole, {Set: pst.PSETIDAppointment, LID: 0x8228, Type: pst.TypeTime}}),
				Recipients: recips(a.Embedded.Recipients)}
			out.Attachments = append(out.Attachments, &pst.Attachment{Props: a.Props, Embedded: em})
		case a.Embedded == nil && (strings.EqualFold(a.Filename(), "ContactPicture.jpg")):
			out.Attachments = append(out.Attachments, a)
		}
	}
	return out
}

// TestReadPathSamples checks that what the COM adapter reads (the
// property lists AppointmentProps and ContactProps, the recipient columns,
// the exceptions and the picture) is all the PST converters use: every
// appointment and contact of the sample PSTs, cut down to that, converts
// to the same merge.Doc as the whole item. A property missing from the
// lists shows up here as a lost or changed field.
func TestReadPathSamples(t *testing.T) {
	ctx := context.Background()
	items, same, nodeUIDs := 0, 0, 0
	losses := map[string]int{}
	for _, name := range []string{"sedatools__ContactCalendar-test.pst", "java-libpst__dist-list.pst", "aspose__SampleContacts.pst",
		"aspose__Test_part1.pst", "aspose__PersonalStorageFile1.pst", "go-pst__32-bit.pst"} {
		f, err := pst.Open(testutil.Sample(t, name))
		if err != nil {
			t.Fatal(err)
		}
		err = f.Walk(ctx, func(fo *pst.Folder) error {
			refs, err := fo.Items()
			if err != nil {
				return err
			}
			for _, r := range refs {
				k := pst.KindOf(r.Class)
				list := ContactProps
				switch k {
				case pst.KindAppointment:
					list = AppointmentProps
				case pst.KindContact:
				default:
					continue
				}
				m, err := f.Message(r.NID)
				if err != nil {
					return err
				}
				whole, err := ToDoc(&Item{Msg: m})
				if err != nil {
					continue // the PST path fails on it too
				}
				items++
				cut, err := ToDoc(&Item{Msg: subset(m, list)})
				if err != nil {
					t.Errorf("%s %d: the read path fails: %v", name, r.NID, err)
					continue
				}
				diffs := Diff(whole, cut)
				keyless := len(m.Props.Binary(pst.TagSearchKey))+len(m.Props.Binary(pst.TagRecordKey))+len(m.Props.Binary(pst.TagEntryID)) == 0 &&
					len(m.Props.Binary(m.Props.NamedID(pst.PSETIDMeeting, 0x0003)))+len(m.Props.Binary(m.Props.NamedID(pst.PSETIDMeeting, 0x0023))) == 0
				switch {
				case whole.UID == cut.UID:
				case keyless:
					// The PST path's UID falls back to the node id, which
					// Outlook does not show; Outlook gives every item a
					// search key, so this happens only with such files.
					nodeUIDs++
				default:
					diffs = append(diffs, "changed UID")
				}
				if len(diffs) == 0 {
					same++
				}
				for _, d := range diffs {
					t.Logf("%s %s %q: %s", name, k, whole.Title(), d)
					verb, rest, _ := strings.Cut(d, " ")
					if i := strings.IndexAny(rest, ";:"); i >= 0 {
						rest = rest[:i]
					}
					losses[verb+" "+rest]++
				}
			}
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	var sb strings.Builder
	for _, k := range slices.Sorted(maps.Keys(losses)) {
		fmt.Fprintf(&sb, "%s: %d\n", k, losses[k])
	}
	t.Logf("%d items, %d unchanged through the read path (%d with a UID from the node id); differences:\n%s", items, same, nodeUIDs, sb.String())
	if same != items || items != 131 {
		t.Errorf("%d of %d items differ through the read path", items-same, items)
	}
}
