package sink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/emersion/go-vcard"
)

// vCard versions accepted by EncodeVCard.
const (
	VCard40 = "4.0"
	VCard30 = "3.0"
)

// Apple's vCard 3.0 extensions for contact groups, used when writing groups
// as vCard 3.0 (CardDAV servers and macOS/iOS Contacts understand them).
const (
	xAppleKind   = "X-ADDRESSBOOKSERVER-KIND"
	xAppleMember = "X-ADDRESSBOOKSERVER-MEMBER"
)

// valKind says how a property value is escaped.
type valKind int

const (
	kindText       valKind = iota // one TEXT value: escape \ , newline
	kindStructured                // components split on ';' (N, ADR, ORG, ...)
	kindList                      // items split on ',' (CATEGORIES, NICKNAME)
	kindRaw                       // URI, date, binary...: written as is
)

var structuredProps = map[string]bool{
	"N": true, "ADR": true, "ORG": true, "GENDER": true, "CLIENTPIDMAP": true,
}

var listProps = map[string]bool{"CATEGORIES": true, "NICKNAME": true}

// rawProps hold URIs, dates, binary data or other values that must not be
// backslash-escaped (escaping the commas of a data: URI breaks it).
var rawProps = map[string]bool{
	"VERSION": true, "SOURCE": true, "PHOTO": true, "LOGO": true, "SOUND": true,
	"URL": true, "IMPP": true, "GEO": true, "FBURL": true, "CALADRURI": true,
	"CALURI": true, "MEMBER": true, "RELATED": true, "KEY": true, "BDAY": true,
	"ANNIVERSARY": true, "REV": true, "LANG": true,
	xAppleMember: true, "X-ANNIVERSARY": true,
}

var rawValueTypes = map[string]bool{
	"uri": true, "date": true, "time": true, "date-time": true,
	"date-and-or-time": true, "timestamp": true, "boolean": true,
	"integer": true, "float": true, "utc-offset": true, "language-tag": true,
	"binary": true,
}

// Properties written first (in this order) and last; the rest are sorted.
var (
	vcardFirst = []string{"KIND", xAppleKind, "X-ABSHOWAS", "UID", "FN", "N"}
	vcardLast  = map[string]int{"NOTE": 1, "PHOTO": 2, "LOGO": 3, "SOUND": 4, "KEY": 5}
)

// 4.0 parameters with no 3.0 equivalent, dropped when writing 3.0.
var params40Only = map[string]bool{
	"PID": true, "ALTID": true, "MEDIATYPE": true, "CALSCALE": true,
	"SORT-AS": true, "GEO": true, "TZ": true, "INDEX": true, "LEVEL": true,
	"CC": true, "LABEL": true, "PREF": true,
}

type vline struct {
	group, name string
	params      vcard.Params
	value       string
}

// EncodeVCard writes card as one vCard of the given version ("4.0" or
// "3.0"): BEGIN, VERSION, the properties in a deterministic order (KIND,
// UID, FN, N first; NOTE, PHOTO, LOGO, SOUND, KEY last; the rest sorted by
// name, same-name fields in the card's order), END; CRLF line endings and
// lines folded at 75 octets without splitting UTF-8 sequences. The card's
// own VERSION field is ignored.
//
// Conventions for vcard.Field.Value (DecodeVCardValue returns them, so
// decoded cards are re-encoded as they were written):
//
//   - plain TEXT properties (FN, NOTE, TITLE, EMAIL, TEL, X-...): the
//     unescaped text; EncodeVCard escapes '\', ',' and line breaks
//     (CRLF/CR/LF become "\n"). ';' is not escaped: RFC 6350 allows it in
//     TEXT and ical.js and go-vcard would keep a "\;" literally (merge's
//     reader takes "\;", "\:" and "\," in TEXT for the character).
//   - structured properties (N, ADR, ORG, GENDER): components separated by
//     ';', the values of one component (N's additional names, an ADR
//     street of several lines) by ','; inside a value "\;" is a literal
//     ';', "\," a literal ',' and "\\" a literal '\'. Build such values
//     with VCardStructured.
//   - list properties (CATEGORIES, NICKNAME): items separated by ','; "\,"
//     is a literal ',' inside an item, "\\" a literal '\'. Build them with
//     VCardList (go-vcard's Card.SetCategories is fine when no item
//     contains ',' or '\'). Several CATEGORIES fields are merged into one.
//   - URI, date and binary properties (PHOTO, LOGO, SOUND, KEY, URL, SOURCE,
//     IMPP, MEMBER, RELATED, BDAY, ANNIVERSARY, REV, GEO, UID in 4.0, and any
//     field with a VALUE parameter naming a non-text type): written as is,
//     with CR and LF removed.
//
// Cards should be built in vCard 4.0 terms; EncodeVCard converts for 3.0:
//
//   - PHOTO/LOGO/SOUND/KEY "data:<type>;base64,<data>" URIs become
//     "PHOTO;ENCODING=b;TYPE=JPEG:<data>"; other URIs get VALUE=uri;
//   - KIND:group becomes X-ADDRESSBOOKSERVER-KIND:group and each MEMBER
//     becomes X-ADDRESSBOOKSERVER-MEMBER (Apple's convention, read by macOS
//     and iOS Contacts and CardDAV servers); KIND:org becomes
//     X-ABShowAs:COMPANY; KIND:individual is dropped; other kinds become
//     X-ADDRESSBOOKSERVER-KIND;
//   - ANNIVERSARY becomes X-ANNIVERSARY; BDAY and X-ANNIVERSARY dates
//     "YYYYMMDD" become "YYYY-MM-DD"; a BDAY without year ("--MMDD")
//     becomes "1604-MM-DD" with X-APPLE-OMIT-YEAR=1604;
//   - GENDER becomes X-GENDER (Male, Female, Other, None, Unknown or the
//     identity text); LANG and RELATED get an "X-" prefix; CLIENTPIDMAP
//     and XML are dropped;
//   - TEL;VALUE=uri:tel:+1... becomes TEL:+1...;
//   - PREF=1 becomes TYPE=pref; PID, ALTID, MEDIATYPE, SORT-AS and the other
//     4.0-only parameters are dropped (an ADR LABEL parameter becomes a
//     LABEL property); TYPE values are upper-cased.
//
// When writing 4.0, 3.0-style input is converted back where it is
// unambiguous (ENCODING=b binaries become data: URIs, TYPE=pref becomes
// PREF=1, the X-ADDRESSBOOKSERVER-* fields become KIND and MEMBER,
// X-ANNIVERSARY becomes ANNIVERSARY, "YYYY-MM-DD" dates become
// "YYYYMMDD").
//
// FN is required by both versions and N by 3.0: a missing FN is derived
// from N, ORG or EMAIL (else empty); a missing N is written empty in 3.0.
func EncodeVCard(w io.Writer, card vcard.Card, version string) error {
	var lines []vline
	var err error
	switch version {
	case VCard40:
		lines, err = vcardLines40(card)
	case VCard30:
		lines, err = vcardLines30(card)
	default:
		return fmt.Errorf("sink: encode vCard: unsupported version %q", version)
	}
	if err != nil {
		return fmt.Errorf("sink: encode vCard: %w", err)
	}
	lines = mergeCategories(lines)
	sortVLines(lines)

	var buf bytes.Buffer
	writeFolded(&buf, "BEGIN:VCARD")
	writeFolded(&buf, "VERSION:"+version)
	for _, l := range lines {
		s, err := formatVLine(l, version)
		if err != nil {
			return fmt.Errorf("sink: encode vCard: %w", err)
		}
		writeFolded(&buf, s)
	}
	writeFolded(&buf, "END:VCARD")
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("sink: write vCard: %w", err)
	}
	return nil
}

// cardLines flattens a card into lines, skipping VERSION, BEGIN and END,
// with copied parameter maps (the card is never modified).
func cardLines(card vcard.Card) ([]vline, error) {
	var out []vline
	for k, fields := range card {
		name := strings.ToUpper(k)
		switch name {
		case "VERSION", "BEGIN", "END":
			continue
		}
		if !isICSName(name) {
			return nil, fmt.Errorf("invalid property name %q", k)
		}
		for _, f := range fields {
			if f == nil {
				continue
			}
			if f.Group != "" && !isICSName(f.Group) {
				return nil, fmt.Errorf("property %s: invalid group %q", name, f.Group)
			}
			p := make(vcard.Params, len(f.Params))
			for pk, pv := range f.Params {
				pk = strings.ToUpper(pk)
				if !isICSName(pk) {
					return nil, fmt.Errorf("property %s: invalid parameter name %q", name, pk)
				}
				p[pk] = append(p[pk], pv...)
			}
			out = append(out, vline{group: f.Group, name: name, params: p, value: f.Value})
		}
	}
	return out, nil
}

func vcardLines40(card vcard.Card) ([]vline, error) {
	in, err := cardLines(card)
	if err != nil {
		return nil, err
	}
	has := presentNames(in)
	out := in[:0]
	for _, l := range in {
		switch l.name {
		case xAppleKind:
			if has["KIND"] {
				continue
			}
			l.name = "KIND"
			l.value = strings.ToLower(l.value)
		case xAppleMember:
			l.name = "MEMBER"
		case "X-ANNIVERSARY":
			if has["ANNIVERSARY"] {
				continue
			}
			l.name = "ANNIVERSARY"
		}
		if l.name == "BDAY" || l.name == "ANNIVERSARY" {
			l.value = basicDate(l.value)
			if y := l.params.Get("X-APPLE-OMIT-YEAR"); y != "" && strings.HasPrefix(l.value, y) && len(l.value) == 8 {
				l.value = "--" + l.value[4:]
				delete(l.params, "X-APPLE-OMIT-YEAR")
			}
		}
		if isBinaryProp(l.name) {
			if enc := strings.ToLower(l.params.Get("ENCODING")); enc == "b" || enc == "base64" {
				mt := mediaTypeFor(l.name, l.params.Get("TYPE"))
				l.value = "data:" + mt + ";base64," + stripCRLF(l.value)
				delete(l.params, "ENCODING")
				delete(l.params, "TYPE")
				delete(l.params, "VALUE")
			} else if strings.EqualFold(l.params.Get("VALUE"), "uri") {
				delete(l.params, "VALUE")
			}
		}
		// TYPE=pref (3.0) becomes PREF=1.
		if types, ok := l.params["TYPE"]; ok {
			kept := types[:0]
			pref := false
			for _, t := range splitParamList(types) {
				if strings.EqualFold(t, "pref") {
					pref = true
					continue
				}
				kept = append(kept, t)
			}
			if len(kept) == 0 {
				delete(l.params, "TYPE")
			} else {
				l.params["TYPE"] = kept
			}
			if pref && l.params.Get("PREF") == "" {
				l.params.Set("PREF", "1")
			}
		}
		out = append(out, l)
	}
	return ensureFN(out, false), nil
}

func vcardLines30(card vcard.Card) ([]vline, error) {
	in, err := cardLines(card)
	if err != nil {
		return nil, err
	}
	var out []vline
	for _, l := range in {
		var extra []vline
		switch l.name {
		case "KIND":
			switch strings.ToLower(strings.TrimSpace(l.value)) {
			case "", "individual":
				continue
			case "org":
				l.name, l.value = "X-ABSHOWAS", "COMPANY"
			default:
				l.name, l.value = xAppleKind, strings.ToLower(l.value)
			}
		case "MEMBER":
			l.name = xAppleMember
		case "ANNIVERSARY":
			l.name = "X-ANNIVERSARY"
		case "GENDER":
			l.name = "X-GENDER"
			sex, identity, _ := strings.Cut(l.value, ";")
			switch strings.ToUpper(sex) {
			case "M":
				l.value = "Male"
			case "F":
				l.value = "Female"
			case "O":
				l.value = "Other"
			case "N":
				l.value = "None"
			case "U":
				l.value = "Unknown"
			default:
				l.value = unescapeComponent(identity)
			}
			if l.value == "" {
				continue
			}
		case "LANG", "RELATED":
			l.name = "X-" + l.name
		case "CLIENTPIDMAP", "XML":
			continue
		case "TEL":
			if strings.EqualFold(l.params.Get("VALUE"), "uri") {
				delete(l.params, "VALUE")
				if len(l.value) > 4 && strings.EqualFold(l.value[:4], "tel:") {
					l.value = l.value[4:]
				}
			}
		case "ADR":
			if label := l.params.Get("LABEL"); label != "" {
				p := vcard.Params{}
				if t, ok := l.params["TYPE"]; ok {
					for _, x := range splitParamList(t) {
						p["TYPE"] = append(p["TYPE"], strings.ToUpper(x))
					}
				}
				extra = append(extra, vline{group: l.group, name: "LABEL", params: p, value: label})
			}
		}
		if l.name == "BDAY" || l.name == "X-ANNIVERSARY" {
			v := strings.TrimSpace(l.value)
			if len(v) == 6 && strings.HasPrefix(v, "--") && l.name == "BDAY" {
				l.value = "1604-" + v[2:4] + "-" + v[4:6]
				l.params.Set("X-APPLE-OMIT-YEAR", "1604")
			} else {
				l.value = extendedDate(v)
			}
			delete(l.params, "VALUE")
		}
		if isBinaryProp(l.name) {
			if strings.HasPrefix(strings.ToLower(l.value), "data:") {
				mt, data, err := decodeDataURI(l.value)
				if err != nil {
					return nil, fmt.Errorf("property %s: %w", l.name, err)
				}
				l.value = base64.StdEncoding.EncodeToString(data)
				delete(l.params, "VALUE")
				delete(l.params, "MEDIATYPE")
				l.params.Set("ENCODING", "b")
				if sub := binaryTypeParam(mt); sub != "" {
					l.params.Set("TYPE", sub)
				} else {
					delete(l.params, "TYPE")
				}
			} else if !strings.EqualFold(l.params.Get("ENCODING"), "b") {
				l.params.Set("VALUE", "uri")
			}
		}
		pref := false
		for pk, pv := range l.params {
			if pk == "PREF" && len(pv) > 0 && strings.TrimSpace(pv[0]) == "1" {
				pref = true
			}
			if params40Only[pk] {
				delete(l.params, pk)
			}
		}
		if types, ok := l.params["TYPE"]; ok && !isBinaryProp(l.name) {
			up := splitParamList(types)
			for i := range up {
				up[i] = strings.ToUpper(up[i])
			}
			l.params["TYPE"] = up
		}
		if pref && !l.params.HasType("pref") {
			l.params["TYPE"] = append(l.params["TYPE"], "PREF")
		}
		out = append(out, l)
		out = append(out, extra...)
	}
	out = ensureFN(out, true)
	return out, nil
}

func presentNames(ls []vline) map[string]bool {
	m := make(map[string]bool, len(ls))
	for _, l := range ls {
		m[l.name] = true
	}
	return m
}

// ensureFN adds FN (and, for 3.0, N) when missing.
func ensureFN(ls []vline, needN bool) []vline {
	has := presentNames(ls)
	if !has["FN"] {
		fn := ""
		for _, l := range ls {
			if l.name == "N" && fn == "" {
				c := splitUnescaped(l.value, ';')
				var parts []string
				for _, i := range []int{3, 1, 2, 0, 4} { // prefix given additional family suffix
					if i < len(c) && strings.TrimSpace(c[i]) != "" {
						parts = append(parts, strings.TrimSpace(c[i]))
					}
				}
				fn = strings.Join(parts, " ")
			}
		}
		for _, name := range []string{"ORG", "EMAIL"} {
			for _, l := range ls {
				if fn == "" && l.name == name {
					fn = strings.TrimSpace(splitUnescaped(l.value, ';')[0])
				}
			}
		}
		ls = append(ls, vline{name: "FN", params: vcard.Params{}, value: fn})
	}
	if needN && !has["N"] {
		ls = append(ls, vline{name: "N", params: vcard.Params{}, value: ";;;;"})
	}
	return ls
}

// mergeCategories joins several ungrouped, parameterless CATEGORIES fields
// into one, since many clients read only the first.
func mergeCategories(ls []vline) []vline {
	first := -1
	out := ls[:0]
	for _, l := range ls {
		if l.name == "CATEGORIES" && l.group == "" && len(l.params) == 0 {
			if first >= 0 {
				if l.value != "" {
					if out[first].value != "" {
						out[first].value += ","
					}
					out[first].value += l.value
				}
				continue
			}
			first = len(out)
		}
		out = append(out, l)
	}
	return out
}

func sortVLines(ls []vline) {
	rank := func(name string) int {
		for i, n := range vcardFirst {
			if n == name {
				return i - len(vcardFirst) - 1 // negative: before the rest
			}
		}
		return vcardLast[name]
	}
	sort.SliceStable(ls, func(i, j int) bool {
		ri, rj := rank(ls[i].name), rank(ls[j].name)
		if ri != rj {
			return ri < rj
		}
		if ls[i].name != ls[j].name {
			return ls[i].name < ls[j].name
		}
		return false
	})
}

func kindOf(l vline) valKind {
	if v := strings.ToLower(l.params.Get("VALUE")); v != "" {
		if rawValueTypes[v] {
			return kindRaw
		}
	}
	switch {
	case structuredProps[l.name]:
		return kindStructured
	case listProps[l.name]:
		return kindList
	case rawProps[l.name]:
		return kindRaw
	case l.name == "UID":
		return kindRaw // URI by default in 4.0; callers use urn:uuid: values
	}
	return kindText
}

func formatVLine(l vline, version string) (string, error) {
	var sb strings.Builder
	if l.group != "" {
		sb.WriteString(l.group)
		sb.WriteByte('.')
	}
	sb.WriteString(l.name)
	for _, k := range slices.Sorted(maps.Keys(l.params)) {
		writeParam(&sb, k, l.params[k], version == VCard40)
	}
	sb.WriteByte(':')
	switch kindOf(l) {
	case kindRaw:
		sb.WriteString(stripCRLF(l.value))
	case kindText:
		sb.WriteString(escapeText(l.value, false))
	case kindList:
		for i, it := range splitUnescaped(l.value, ',') {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(escapeText(it, false))
		}
	case kindStructured:
		for i, c := range splitKeep(l.value, ';') {
			if i > 0 {
				sb.WriteByte(';')
			}
			for j, it := range splitKeep(c, ',') {
				if j > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(escapeText(unescapeComponent(it), true))
			}
		}
	}
	return sb.String(), nil
}

// escapeText escapes an iCalendar or vCard text value: '\' and ','
// always, ';' when semicolon is set (always in iCalendar, only in
// structured vCard components), line breaks as "\n"; other control
// characters except TAB are dropped.
func escapeText(s string, semicolon bool) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == ',':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == ';' && semicolon:
			sb.WriteString(`\;`)
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			sb.WriteString(`\n`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c < 0x20 && c != '\t' || c == 0x7f:
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// splitUnescaped splits s on sep, honouring the escapes "\\", "\;" and
// "\," (which yield the literal character); any other backslash is kept.
func splitUnescaped(s string, sep byte) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == ';' || s[i+1] == ',') {
			cur.WriteByte(s[i+1])
			i++
			continue
		}
		if c == sep {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	return append(out, cur.String())
}

func unescapeComponent(s string) string { return strings.Join(splitUnescaped(s, 0), "") }

// splitKeep splits s at the sep characters no backslash escapes; the
// escapes stay in the parts.
func splitKeep(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// DecodeVCardValue is the inverse of EncodeVCard's value encoding: it
// turns the value of a content line as written (escaped) into the
// vcard.Field.Value convention described at EncodeVCard, for a property
// with the given name and parameters. It reads what vCard 2.1, 3.0 and 4.0
// writers produce: in TEXT "\\", "\n" (or "\N"), "\,", "\;" and "\:"
// are escapes (any other backslash is a literal one); in structured
// values (N, ADR, ORG, GENDER) ',' separates the values of one component
// and is kept, as are the escapes of ',', ';' and '\' inside a value; in
// lists (CATEGORIES, NICKNAME) an escaped comma stays part of its item;
// URI, date and binary values are kept as written except that "\:", "\,"
// and "\;" (which some 3.0 writers put into URLs) lose their backslash.
// Quoted-printable, charsets and base64 are the caller's concern.
func DecodeVCardValue(name string, params vcard.Params, raw string) string {
	l := vline{name: strings.ToUpper(name), params: params, value: raw}
	switch kindOf(l) {
	case kindRaw:
		if !strings.Contains(raw, `\`) {
			return raw
		}
		return rawUnescaper.Replace(raw)
	case kindList:
		items := splitKeep(raw, ',')
		for i, it := range items {
			items[i] = listEscaper.Replace(unescapeVCardText(it))
		}
		return strings.Join(items, ",")
	case kindStructured:
		comps := splitKeep(raw, ';')
		for i, c := range comps {
			items := splitKeep(c, ',')
			for j, it := range items {
				items[j] = structEscaper.Replace(unescapeVCardText(it))
			}
			comps[i] = strings.Join(items, ",")
		}
		return strings.Join(comps, ";")
	}
	return unescapeVCardText(raw)
}

var rawUnescaper = strings.NewReplacer(`\\`, `\\`, `\:`, ":", `\,`, ",", `\;`, ";")

// unescapeVCardText decodes the escapes of a TEXT value; a backslash that
// escapes nothing known is a literal backslash.
func unescapeVCardText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '\\', ',', ';', ':':
				sb.WriteByte(s[i+1])
				i++
				continue
			case 'n', 'N':
				sb.WriteByte('\n')
				i++
				continue
			}
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

var structEscaper = strings.NewReplacer(`\`, `\\`, `;`, `\;`, `,`, `\,`)
var listEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`)

// VCardStructured builds a structured Field.Value (N, ADR, ORG, GENDER) from
// plain-text components, escaping '\', ';' and ',' inside them (an
// unescaped ',' would separate two values of one component). For N the order
// is family, given, additional, prefix, suffix; for ADR it is post office
// box, extended, street, locality, region, postal code, country.
func VCardStructured(components ...string) string {
	esc := make([]string, len(components))
	for i, c := range components {
		esc[i] = structEscaper.Replace(c)
	}
	return strings.Join(esc, ";")
}

// VCardList builds a list Field.Value (CATEGORIES, NICKNAME) from plain-text
// items, escaping '\' and ',' inside them.
func VCardList(items ...string) string {
	esc := make([]string, len(items))
	for i, it := range items {
		esc[i] = listEscaper.Replace(it)
	}
	return strings.Join(esc, ",")
}

// PhotoDataURI returns the vCard 4.0 PHOTO value for an image:
// "data:<mediaType>;base64,<data>". mediaType defaults to image/jpeg.
func PhotoDataURI(mediaType string, data []byte) string {
	if mediaType == "" {
		mediaType = "image/jpeg"
	}
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(data)
}

func isBinaryProp(name string) bool {
	switch name {
	case "PHOTO", "LOGO", "SOUND", "KEY":
		return true
	}
	return false
}

func stripCRLF(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// splitParamList flattens parameter values that themselves hold
// comma-separated lists (TYPE=work,voice given as one value).
func splitParamList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// mediaTypeFor maps a 3.0 TYPE parameter of a binary property (JPEG, PNG,
// image/png...) to a media type.
func mediaTypeFor(prop, typ string) string {
	typ = strings.TrimSpace(typ)
	if strings.Contains(typ, "/") {
		return strings.ToLower(typ)
	}
	sub := strings.ToLower(typ)
	switch prop {
	case "SOUND":
		if sub == "" {
			return "application/octet-stream"
		}
		return "audio/" + sub
	case "KEY":
		switch sub {
		case "pgp":
			return "application/pgp-keys"
		case "x509", "":
			return "application/pkix-cert"
		}
		return "application/" + sub
	}
	switch sub {
	case "":
		return "image/jpeg"
	case "jpg":
		sub = "jpeg"
	}
	return "image/" + sub
}

// binaryTypeParam maps a media type to a 3.0 TYPE parameter (image/jpeg ->
// JPEG).
func binaryTypeParam(mt string) string {
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "":
		return ""
	case "application/pgp-keys":
		return "PGP"
	case "application/pkix-cert":
		return "X509"
	}
	_, sub, ok := strings.Cut(mt, "/")
	if !ok {
		sub = mt
	}
	return strings.ToUpper(sub)
}

// decodeDataURI decodes an RFC 2397 data: URI.
func decodeDataURI(s string) (mediaType string, data []byte, err error) {
	s = stripCRLF(s)
	rest := s[len("data:"):]
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return "", nil, errors.New("malformed data: URI (no comma)")
	}
	isB64 := false
	if m, ok := strings.CutSuffix(meta, ";base64"); ok {
		meta, isB64 = m, true
	}
	mediaType, _, _ = strings.Cut(meta, ";")
	if isB64 {
		data, err = base64.StdEncoding.DecodeString(strings.TrimRight(payload, " "))
		if err != nil {
			data, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(payload, "= "))
		}
		if err != nil {
			return "", nil, fmt.Errorf("malformed base64 in data: URI: %w", err)
		}
		return mediaType, data, nil
	}
	u, err := url.PathUnescape(payload)
	if err != nil {
		return "", nil, fmt.Errorf("malformed data: URI: %w", err)
	}
	return mediaType, []byte(u), nil
}

// basicDate turns "YYYY-MM-DD" into "YYYYMMDD" (vCard 4.0 dates);
// everything else is returned unchanged.
func basicDate(v string) string {
	v = strings.TrimSpace(v)
	if len(v) == 10 && v[4] == '-' && v[7] == '-' && allDigits(v[:4]+v[5:7]+v[8:]) {
		return v[:4] + v[5:7] + v[8:]
	}
	return v
}

// extendedDate turns "YYYYMMDD" into "YYYY-MM-DD" (what vCard 3.0 clients
// expect); everything else is returned unchanged.
func extendedDate(v string) string {
	if len(v) == 8 && allDigits(v) {
		return v[:4] + "-" + v[4:6] + "-" + v[6:]
	}
	return v
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
