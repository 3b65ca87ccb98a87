package merge

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/ianaindex"

	"github.com/pstsync/pstsync/sink"
)

// This file is merge's own lenient vCard reader (2.1, 3.0 and 4.0). It
// replaces go-vcard's decoder, which does not read vCard 2.1 (bare type
// parameters, quoted-printable, charsets), unescapes values the same way
// whatever the property (so "\;" gains a backslash and "\," splits lists)
// and treats backslashes in parameter values as escapes. Values come out
// in the convention of sink.EncodeVCard (see sink.DecodeVCardValue), which
// writes them back unchanged.

// rawCard is one card as read, or why it could not be.
type rawCard struct {
	card vcard.Card
	err  error
}

// vcardStream is what readVCardStream found.
type vcardStream struct {
	cards    []rawCard
	stray    []error // lines outside any card
	complete bool    // the last card begun was ended
}

// bareEncodings are the vCard 2.1 bare parameters that name an encoding
// (every other bare parameter is a type: "TEL;HOME;VOICE:").
var bareEncodings = map[string]bool{
	"QUOTED-PRINTABLE": true, "BASE64": true, "B": true, "8BIT": true, "7BIT": true,
}

// readVCardStream reads every card of data.
func readVCardStream(data []byte) vcardStream {
	st := vcardStream{complete: true}
	var cur *rawCard
	depth := 0 // nesting of BEGIN:VCARD (a vCard 2.1 AGENT holds a card)
	for _, l := range splitContentLines(data) {
		if cur == nil {
			switch {
			case l.Err == nil && l.Name == "BEGIN" && strings.EqualFold(strings.TrimSpace(l.Value), "VCARD"):
				cur = &rawCard{card: vcard.Card{}}
				depth = 1
			case l.Err != nil:
				st.stray = append(st.stray, l.Err)
			default:
				st.stray = append(st.stray, fmt.Errorf("line %d: %s outside any vCard", l.Num, l.Name))
			}
			continue
		}
		if l.Err != nil {
			if cur.err == nil {
				cur.err = l.Err
			}
			continue
		}
		switch l.Name {
		case "BEGIN":
			depth++
			if cur.err == nil {
				cur.err = fmt.Errorf("line %d: BEGIN:%s inside a vCard is not supported", l.Num, strings.TrimSpace(l.Value))
			}
			continue
		case "END":
			depth--
			if depth > 0 {
				continue
			}
			st.cards = append(st.cards, *cur)
			cur = nil
			continue
		}
		if depth > 1 {
			continue
		}
		name, f, err := cardField(l)
		if err != nil {
			if cur.err == nil {
				cur.err = err
			}
			continue
		}
		cur.card[name] = append(cur.card[name], f)
	}
	if cur != nil {
		st.complete = false
		if cur.err == nil {
			cur.err = errors.New("vCard not ended: the file is cut short")
		}
		st.cards = append(st.cards, *cur)
	}
	return st
}

// cardField converts a content line of a card to a go-vcard field, its
// value in sink's convention: quoted-printable and the charset decoded
// (ENCODING=QUOTED-PRINTABLE and CHARSET are then dropped), text that is
// not UTF-8 and names no charset read as Windows-1252, base64 without its
// line breaks, bare 2.1 parameters as TYPE or ENCODING.
func cardField(l contentLine) (string, *vcard.Field, error) {
	params := vcard.Params{}
	for _, p := range l.Params {
		name := p.Name
		if name == "" {
			name = "TYPE"
			if v := strings.ToUpper(strings.TrimSpace(p.Values[0])); bareEncodings[v] {
				name = "ENCODING"
			}
		}
		for _, v := range p.Values {
			params[name] = append(params[name], legacyText(v))
		}
	}
	value := l.Value
	enc := strings.ToUpper(strings.TrimSpace(params.Get("ENCODING")))
	switch enc {
	case "QUOTED-PRINTABLE":
		value = decodeQP(value)
		delete(params, "ENCODING")
	case "8BIT", "7BIT":
		delete(params, "ENCODING")
	case "B", "BASE64":
		value = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, value)
	}
	if cs := strings.TrimSpace(params.Get("CHARSET")); cs != "" {
		delete(params, "CHARSET")
		value = decodeCharset(cs, value)
	}
	value = legacyText(value)
	if enc == "QUOTED-PRINTABLE" {
		// Line breaks encoded in quoted-printable are real ones; the
		// model holds them as LF (sink writes them as "\n").
		value = strings.ReplaceAll(strings.ReplaceAll(value, "\r\n", "\n"), "\r", "\n")
	}
	return l.Name, &vcard.Field{
		Group:  l.Group,
		Params: params,
		Value:  sink.DecodeVCardValue(l.Name, params, value),
	}, nil
}

// decodeQP decodes quoted-printable text leniently: "=XX" is a byte, any
// other '=' is kept.
func decodeQP(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// decodeCharset decodes s from the named charset; UTF-8, US-ASCII and
// unknown names leave it to legacyText.
func decodeCharset(name, s string) string {
	switch strings.ToUpper(name) {
	case "UTF-8", "UTF8", "US-ASCII", "ASCII":
		return s
	}
	enc, err := ianaindex.IANA.Encoding(name)
	if err != nil || enc == nil {
		return s
	}
	if _, single := enc.(*charmap.Charmap); single && utf8.ValidString(s) && !isASCII(s) {
		// Labelled with a one-byte charset but valid UTF-8 (a common
		// mislabel): read as UTF-8, which a one-byte text is hardly ever.
		return s
	}
	out, err := enc.NewDecoder().String(s)
	if err != nil || !utf8.ValidString(out) || strings.ContainsRune(out, utf8.RuneError) {
		return s
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// decodeVCardCard reads a stream that should hold exactly one good card.
func decodeVCardCard(data []byte) (vcard.Card, error) {
	st := readVCardStream(data)
	switch {
	case len(st.stray) > 0:
		return nil, st.stray[0]
	case len(st.cards) == 0:
		return nil, errors.New("no vCard")
	case len(st.cards) > 1:
		return nil, errors.New("more than one vCard")
	case st.cards[0].err != nil:
		return nil, st.cards[0].err
	}
	return st.cards[0].card, nil
}
