package contact

import (
	"strings"

	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/pst"
)

// Extension names used for distribution-list members.
const (
	// ParamXCN carries a member's display name on MEMBER and X-MS-MEMBER.
	ParamXCN = "X-CN"
	// ParamXAddrType carries a non-SMTP address type on X-MS-MEMBER.
	ParamXAddrType = "X-MS-ADDRTYPE"
	// FieldXMember keeps a member that has no usable URI (an Exchange
	// address, or a name only); its value is the raw address, possibly "".
	FieldXMember = "X-MS-MEMBER"
)

// DistListOptions tunes DistListToVCard.
type DistListOptions struct {
	// Resolve looks up a member that the list only references (a
	// WrappedEntryId pointing at a contact, another personal distribution
	// list or a GAL entry). It receives the member's entry id exactly as
	// stored in PidLidDistributionListMembers and returns the member's
	// name and e-mail address (email may be "" for a nested list). ok is
	// false when it cannot resolve the id; the one-off copy is used then.
	Resolve func(entryID []byte) (name, email string, ok bool)
	// ResolveUID returns the vCard UID of the referenced item; it is used
	// for MEMBER (as urn:uuid:...) when the member has no e-mail address.
	ResolveUID func(entryID []byte) (uid string, ok bool)
}

// DistListToVCard converts a personal distribution list (IPM.DistList) to a
// vCard 4.0 group: KIND:group, FN, one MEMBER per member
// (mailto:address, or the member item's urn:uuid UID when it has no
// address) with the member's name in the X-CN parameter, and X-MS-MEMBER
// for members without a usable URI. At most one DistListOptions is used.
//
// Members come from PidLidDistributionListMembers and, position by
// position, PidLidDistributionListOneOffMembers ([MS-OXOCNTC] 2.2.2.2).
// PidLidDistributionListStream (lists too large for those properties) is
// not decoded.
func DistListToVCard(m *pst.Message, opts ...DistListOptions) (vcard.Card, error) {
	if m == nil || m.Props == nil {
		return nil, ErrNoMessage
	}
	var opt DistListOptions
	if len(opts) > 0 {
		opt = opts[0]
	}
	p := m.Props
	c := make(vcard.Card)
	c.SetValue(vcard.FieldVersion, "4.0")
	c.SetKind(vcard.KindGroup)
	c.SetValue(vcard.FieldUID, UID(m))

	fn := str(p, pst.TagDisplayName)
	if fn == "" {
		fn = str(p, named(p, lidDistListName))
	}
	if fn == "" {
		fn = str(p, pst.TagSubject)
	}
	if fn == "" {
		fn = "Distribution list"
	}
	c.SetValue(vcard.FieldFormattedName, fn)

	for _, mem := range distListMembers(p, opt) {
		addMember(c, mem)
	}
	addCommon(c, p)
	return c, nil
}

// ListMember is one resolved member of a distribution list.
type ListMember struct {
	Name        string
	AddressType string
	Address     string
	UID         string // of the referenced item, when resolved
	Err         error  // entry id could not be decoded (other fields may be set)
}

// DistListMembers returns the members of a distribution list in list
// order, resolved as DistListToVCard does.
func DistListMembers(m *pst.Message, opts ...DistListOptions) []ListMember {
	if m == nil || m.Props == nil {
		return nil
	}
	var opt DistListOptions
	if len(opts) > 0 {
		opt = opts[0]
	}
	return distListMembers(m.Props, opt)
}

func distListMembers(p *pst.Props, opt DistListOptions) []ListMember {
	members := p.Binaries(named(p, lidDistListMembers))
	oneOffs := p.Binaries(named(p, lidDistListOneOffMember))
	n := max(len(members), len(oneOffs))
	out := make([]ListMember, 0, n)
	for i := 0; i < n; i++ {
		var lm ListMember
		var eid []byte
		var wrapped *Wrapped
		if i < len(members) {
			eid = members[i]
			mem, err := ParseMemberEntryID(eid)
			lm.Err = err
			lm.Name, lm.AddressType, lm.Address = mem.Name, mem.AddressType, mem.Address
			wrapped = mem.Wrapped
		}
		if wrapped != nil && wrapped.Kind != WrappedOneOff {
			if opt.Resolve != nil {
				if name, addr, ok := opt.Resolve(eid); ok {
					if name != "" {
						lm.Name = name
					}
					if addr != "" {
						lm.Address, lm.AddressType = addr, "SMTP"
					}
				}
			}
			if opt.ResolveUID != nil {
				if uid, ok := opt.ResolveUID(eid); ok {
					lm.UID = uid
				}
			}
		}
		if (lm.Name == "" || !looksSMTP(lm.Address)) && i < len(oneOffs) {
			if o, err := ParseOneOff(oneOffs[i]); err == nil {
				if lm.Name == "" {
					lm.Name = o.DisplayName
				}
				if !looksSMTP(lm.Address) && (looksSMTP(o.Address) || lm.Address == "") {
					lm.Address, lm.AddressType = o.Address, o.AddressType
				}
				if lm.Err != nil && eid != nil {
					lm.Err = nil // the one-off copy stands in for it
				}
			} else if lm.Err == nil && eid == nil {
				lm.Err = err
			}
		}
		lm.Name = strings.TrimSpace(lm.Name)
		lm.Address = strings.TrimSpace(lm.Address)
		if strings.HasPrefix(strings.ToLower(lm.Address), "smtp:") {
			lm.Address = lm.Address[5:]
		}
		out = append(out, lm)
	}
	return out
}

func addMember(c vcard.Card, lm ListMember) {
	name := strings.ReplaceAll(lm.Name, `"`, "")
	f := &vcard.Field{Params: vcard.Params{}}
	switch {
	case looksSMTP(lm.Address):
		f.Value = "mailto:" + lm.Address
	case lm.UID != "":
		f.Value = lm.UID
	case lm.Address != "" || name != "":
		f.Value = lm.Address
		if name != "" {
			f.Params.Set(ParamXCN, name)
		}
		if lm.AddressType != "" {
			f.Params.Set(ParamXAddrType, lm.AddressType)
		}
		c.Add(FieldXMember, f)
		return
	default:
		return
	}
	for _, old := range c[vcard.FieldMember] {
		if strings.EqualFold(old.Value, f.Value) {
			return
		}
	}
	if name != "" && name != lm.Address {
		f.Params.Set(ParamXCN, name)
	}
	c.Add(vcard.FieldMember, f)
}

// FileOptions returns DistListOptions that resolve wrapped member entry ids
// against f: a contact member yields its display name and the e-mail
// address the entry id selects (Email1..3), a nested list its name and
// UID. Only ids whose embedded EntryID is a PST message id of f resolve.
func FileOptions(f *pst.File) DistListOptions {
	load := func(eid []byte) (*pst.Message, Wrapped, bool) {
		w, err := ParseWrapped(eid)
		if err != nil || (w.Kind != WrappedContact && w.Kind != WrappedPersonalDL) {
			return nil, w, false
		}
		nid, ok := EntryIDNID(w.Embedded)
		if !ok || f == nil {
			return nil, w, false
		}
		msg, err := f.Message(nid)
		if err != nil || msg == nil || msg.Props == nil {
			return nil, w, false
		}
		return msg, w, true
	}
	return DistListOptions{
		Resolve: func(eid []byte) (string, string, bool) {
			msg, w, ok := load(eid)
			if !ok {
				return "", "", false
			}
			name := str(msg.Props, pst.TagDisplayName)
			if w.Kind != WrappedContact {
				return name, "", true
			}
			es := emails(msg.Props)
			idx := w.EmailIndex()
			for _, e := range es {
				if !e.ex && (idx == 0 || e.index == idx) {
					return name, e.addr, true
				}
			}
			if len(es) > 0 && !es[0].ex {
				return name, es[0].addr, true
			}
			return name, "", name != ""
		},
		ResolveUID: func(eid []byte) (string, bool) {
			msg, _, ok := load(eid)
			if !ok {
				return "", false
			}
			return UID(msg), true
		},
	}
}
