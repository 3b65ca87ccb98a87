package merge

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-vcard"

	"github.com/pstsync/pstsync/sink"
)

// vcardSingle are the vCard properties that hold one value: one key each.
// Every other property is multi-valued and gets one key per value
// identity.
var vcardSingle = map[string]bool{
	"FN": true, "N": true, "ORG": true, "TITLE": true, "ROLE": true, "BDAY": true,
	"ANNIVERSARY": true, "NOTE": true, "KIND": true, "GENDER": true, "PHOTO": true,
	"LOGO": true, "SOUND": true, "NICKNAME": true, "FBURL": true, "TZ": true, "GEO": true,
	"X-MS-FILE-UNDER": true, "X-MS-OFFICE-LOCATION": true, "X-MS-HOBBIES": true,
	"X-MS-LANGUAGE": true, "X-MS-LOCATION": true, "X-MS-ACCOUNT": true,
	"X-MS-COMPUTER-NETWORK-NAME": true, "X-MS-CUSTOMER-ID": true,
	"X-MS-GOVERNMENT-ID": true, "X-MS-ORGANIZATIONAL-ID": true, "X-MS-FTP-SITE": true,
	"X-MS-REFERRED-BY": true, "X-PHONETIC-FIRST-NAME": true,
	"X-PHONETIC-LAST-NAME": true, "X-PHONETIC-ORG": true,
}

// vcardVolatile are not fields (REV becomes Doc.Modified; UID is Doc.UID).
var vcardVolatile = map[string]bool{"VERSION": true, "PRODID": true, "REV": true, "UID": true}

// FromVCard converts a card to a Doc. The card is first normalised through
// sink's vCard 4.0 encoder and merge's own reader (vcardread.go), so a card
// built by pst/contact and the same card read back from its canonical
// bytes give equal Docs. Parameter values are RFC 6868-decoded, TYPE
// values lower-cased, split and sorted, other parameters' values joined
// with ','.
//
// The reader undoes exactly what the encoder does for values in the
// convention of sink.EncodeVCard; a value built by hand outside it (a raw
// URI holding "\,", a stray backslash in a structured component) reads
// back in that convention, so the Doc is re-encoded and re-read until it
// no longer changes (once for anything read from a file), and a card that
// does not settle is refused.
func FromVCard(c vcard.Card) (*Doc, error) {
	d, _, err := fromNormVCard(decodeCardCarets(c))
	if err != nil {
		return nil, err
	}
	for range maxVCardRounds {
		c, err := ToVCard(d)
		if err != nil {
			return nil, err
		}
		d2, data, err := fromNormVCard(c)
		if err != nil {
			return nil, err
		}
		if d2.UID == d.UID && d2.Modified.Equal(d.Modified) && SameFields(d, d2) {
			// data encodes ToVCard(d): d's canonical bytes.
			d.keepCanonical(data)
			return d, nil
		}
		d = d2
	}
	return nil, fmt.Errorf("merge: vCard %q: encoding does not settle", d.UID)
}

// maxVCardRounds bounds FromVCard's re-encoding; each change shortens some
// value, so only pathological input (long runs of backslashes) needs more
// than two.
const maxVCardRounds = 8

// fromNormVCard encodes c with sink's vCard 4.0 encoder, reads it back
// with merge's reader and converts the result to a Doc; it returns the
// encoding too.
func fromNormVCard(c vcard.Card) (*Doc, []byte, error) {
	var buf bytes.Buffer
	if err := sink.EncodeVCard(&buf, c, sink.VCard40); err != nil {
		return nil, nil, fmt.Errorf("merge: vCard: %w", err)
	}
	norm, err := decodeVCardCard(buf.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("merge: vCard: re-decode: %w", err)
	}
	uid := norm.Value(vcard.FieldUID)
	if strings.TrimSpace(uid) == "" {
		return nil, nil, ErrNoUID
	}
	hint := 0
	for _, fs := range norm {
		hint += len(fs)
	}
	d := &Doc{UID: uid, Kind: KindContact, Fields: make(map[string]Field, hint)}
	if rev := norm.Get(vcard.FieldRevision); rev != nil {
		d.Modified = parseStamp(rev.Value)
	}
	for _, name := range slices.Sorted(maps.Keys(norm)) {
		if vcardVolatile[name] {
			continue
		}
		for _, vf := range norm[name] {
			if vf == nil {
				continue
			}
			f := Field{Name: name, Group: vf.Group, Params: normVCardParams(vf.Params), Value: vf.Value}
			switch {
			case name == vcard.FieldCategories:
				for _, it := range splitUnescaped(f.Value, ',') {
					if it = strings.TrimSpace(it); it != "" {
						g := f.clone()
						g.Value = it
						addField(d.Fields, "CATEGORIES="+strings.ToLower(it), g)
					}
				}
			case name == "X-MS-USER-FIELD" && f.param("X-INDEX") != "":
				addField(d.Fields, name+";X-INDEX="+f.param("X-INDEX"), f)
			case vcardSingle[name]:
				addField(d.Fields, name, f)
			default:
				addField(d.Fields, name+"="+vcardIdentity(f), f)
			}
		}
	}
	return d, buf.Bytes(), nil
}

func (f Field) param(k string) string {
	if v := f.Params[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func normVCardParams(p vcard.Params) map[string][]string {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string][]string, len(p))
	for k, vs := range p {
		k = strings.ToUpper(k)
		if k == "TYPE" {
			seen := map[string]bool{}
			var types []string
			for _, v := range vs {
				for _, t := range strings.Split(decodeCarets(v), ",") {
					t = strings.ToLower(strings.TrimSpace(vcardParamText(t)))
					if t != "" && !seen[t] {
						seen[t] = true
						types = append(types, t)
					}
				}
			}
			if len(types) > 0 {
				sort.Strings(types)
				out[k] = types
			}
			continue
		}
		if len(vs) == 0 {
			continue
		}
		out[k] = []string{vcardParamText(decodeCarets(strings.Join(vs, ",")))}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// vcardIdentity is the value identity of a multi-valued property: e-mail
// addresses and URIs lower-cased, phone numbers reduced to their digits,
// address components trimmed.
func vcardIdentity(f Field) string {
	v := strings.TrimSpace(f.Value)
	switch f.Name {
	case "EMAIL", "X-MS-EMAIL-EX", "IMPP", "MEMBER":
		return strings.ToLower(strings.TrimPrefix(strings.ToLower(v), "mailto:"))
	case "X-MS-MEMBER":
		if v == "" {
			return "cn:" + strings.ToLower(f.param("X-CN"))
		}
		return strings.ToLower(v)
	case "TEL":
		var digits []byte
		for i := 0; i < len(v); i++ {
			if v[i] >= '0' && v[i] <= '9' {
				digits = append(digits, v[i])
			}
		}
		if len(digits) > 0 {
			return string(digits)
		}
		return strings.ToLower(v)
	case "ADR":
		parts := strings.Split(v, ";")
		empty := true
		for i, p := range parts {
			parts[i] = strings.ToLower(strings.TrimSpace(p))
			if parts[i] != "" {
				empty = false
			}
		}
		if empty {
			return "label:" + strings.ToLower(strings.TrimSpace(f.param("LABEL")))
		}
		return strings.Join(parts, ";")
	}
	return v
}

// ToVCard converts a contact Doc back to a vCard 4.0 model: VERSION, UID,
// REV (from Modified) and the fields; same-name fields ordered by PREF,
// then key; CATEGORIES items joined into one field per parameter set.
func ToVCard(d *Doc) (vcard.Card, error) {
	if d == nil || d.Kind != KindContact {
		return nil, fmt.Errorf("merge: ToVCard: not a contact")
	}
	c := make(vcard.Card, len(d.Fields)+3)
	c.SetValue(vcard.FieldVersion, "4.0")
	c.SetValue(vcard.FieldUID, d.UID)
	if !d.Modified.IsZero() {
		c.SetRevision(d.Modified.UTC())
	}
	for _, kf := range orderedFields(d.Fields, "") {
		f := kf.f
		vf := &vcard.Field{Value: f.Value, Group: f.Group, Params: vcard.Params{}}
		for k, v := range f.Params {
			vf.Params[k] = append([]string(nil), v...)
		}
		if f.Name == vcard.FieldCategories {
			if prev := sameParamsField(c[f.Name], vf); prev != nil {
				prev.Value += "," + f.Value
				continue
			}
		}
		c.Add(f.Name, vf)
	}
	return c, nil
}

func sameParamsField(fs []*vcard.Field, f *vcard.Field) *vcard.Field {
	for _, g := range fs {
		a := Field{Group: g.Group, Params: g.Params}
		b := Field{Group: f.Group, Params: f.Params}
		if a.Equal(b) {
			return g
		}
	}
	return nil
}

type keyedField struct {
	key string
	f   Field
}

// orderedFields returns the fields whose key starts with prefix, ordered
// by name, then PREF (absent last), then key.
func orderedFields(m map[string]Field, prefix string) []keyedField {
	out := make([]keyedField, 0, len(m))
	for k, f := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, keyedField{k, f})
		}
	}
	slices.SortFunc(out, func(a, b keyedField) int {
		if a.f.Name != b.f.Name {
			return strings.Compare(a.f.Name, b.f.Name)
		}
		return cmp.Or(cmp.Compare(prefOf(a.f), prefOf(b.f)), strings.Compare(a.key, b.key))
	})
	return out
}

func prefOf(f Field) int {
	if v := f.param("PREF"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return n
		}
	}
	return 1 << 20
}

// parseStamp reads REV / LAST-MODIFIED style timestamps; zero when
// unparsable.
func parseStamp(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"20060102T150405Z", "20060102T150405", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z", "20060102T150405Z0700", "20060102", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// decodeCardCarets returns c with RFC 6868 escapes in parameter values
// decoded (a shallow copy; c is not modified), so that sink's encoder,
// which caret-encodes, does not double them.
func decodeCardCarets(c vcard.Card) vcard.Card {
	out := make(vcard.Card, len(c))
	for name, fs := range c {
		cp := make([]*vcard.Field, 0, len(fs))
		for _, f := range fs {
			if f == nil {
				continue
			}
			g := *f
			if len(f.Params) > 0 {
				g.Params = make(vcard.Params, len(f.Params))
				for k, vs := range f.Params {
					dv := make([]string, len(vs))
					for i, v := range vs {
						dv[i] = decodeCarets(v)
					}
					g.Params[k] = dv
				}
			}
			cp = append(cp, &g)
		}
		out[name] = cp
	}
	return out
}
