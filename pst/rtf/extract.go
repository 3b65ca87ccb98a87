package rtf

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// IsFromHTML reports whether rtf carries encapsulated HTML, i.e. has the
// \fromhtml1 control word in its header ([MS-OXRTFEX] 2.2.3.1).
func IsFromHTML(rtf []byte) bool {
	h, _ := detect(rtf)
	return h
}

// IsFromText reports whether rtf carries encapsulated plain text, i.e. has the
// \fromtext control word in its header ([MS-OXRTFEX] 2.2.3.1).
func IsFromText(rtf []byte) bool {
	_, t := detect(rtf)
	return t
}

// ExtractHTML de-encapsulates the HTML stored in RTF written with \fromhtml1
// ([MS-OXRTFEX] 2.2.3.2): the content of {\*\htmltag} groups and the text
// outside \htmlrtf-suppressed regions, with RTF escapes decoded to UTF-8 using
// the document and font code pages. ok is false, and html empty, when rtf does
// not carry encapsulated HTML.
//
// Line breaks coming from \par and \line are emitted as "\r\n", as the
// specification prescribes.
func ExtractHTML(rtf []byte) (html string, ok bool) {
	fromHTML, _ := detect(rtf)
	if !fromHTML {
		return "", false
	}
	p := newParser(rtf, true)
	p.run()
	return string(p.out), true
}

// ExtractText returns the plain text of an RTF document: destinations such as
// the font, color and style tables, document info, pictures, field
// instructions and all {\*...} groups are skipped; \par, \line, \page, \sect
// and \row become "\n", \tab and \cell "\t"; \'hh escapes are decoded with the
// code page of the current font (or \ansicpg) and \uN with the \ucN fallback
// skipped.
//
// For \fromtext documents the \htmlrtf regions (RTF-only rendering added by
// the encapsulating writer) are dropped, which de-encapsulates the original
// text; for other documents, including \fromhtml1 ones, the text is the RTF
// rendering.
func ExtractText(rtf []byte) string {
	_, fromText := detect(rtf)
	p := newParser(rtf, false)
	p.fromText = fromText
	p.run()
	return string(p.out)
}

// detect scans the RTF header (the top-level tokens before the first document
// text or {\*\htmltag} group) for \fromhtml1 and \fromtext.
func detect(rtf []byte) (fromHTML, fromText bool) {
	lx := lexer{src: rtf}
	var t token
	for lx.next(&t); t.kind == tokText && len(bytes.TrimSpace(t.data)) == 0; {
		lx.next(&t)
	}
	if t.kind != tokGroupStart {
		return false, false
	}
	depth := 1
	for {
		lx.next(&t)
		switch t.kind {
		case tokEOF:
			return
		case tokGroupStart:
			depth++
		case tokGroupEnd:
			depth--
			if depth <= 0 {
				return
			}
		case tokWord:
			switch {
			case depth == 1 && string(t.name) == "fromhtml":
				if !t.hasParam || t.param == 1 {
					fromHTML = true
				}
			case depth == 1 && string(t.name) == "fromtext":
				fromText = true
			case string(t.name) == "htmltag" || string(t.name) == "mhtmltag":
				return
			}
		case tokHex:
			if depth == 1 {
				return
			}
		case tokText:
			if depth == 1 {
				for _, c := range t.data {
					if c != ' ' && c != '\t' {
						return
					}
				}
			}
		}
	}
}

// dest says what the current group contributes to the output.
type dest uint8

const (
	destNormal    dest = iota // document text
	destSkip                  // ignored destination
	destHTMLTag               // {\*\htmltag} content (HTML mode only)
	destFontTable             // \fonttbl: parsed for code pages
)

// state is the group-scoped parser state.
type state struct {
	dest    dest
	uc      int  // \ucN: bytes to skip after \uN
	font    int  // \fN; -1 means \deffN
	htmlrtf bool // inside \htmlrtf ... \htmlrtf0
}

const (
	maxDepth = 1024 // content of groups nested deeper is dropped
	maxFonts = 4096 // font table entries remembered
	maxUC    = 64
)

// skipped destinations: their content is never text.
var skipDest = map[string]bool{
	"annotation": true, "atnauthor": true, "atnid": true, "atrfend": true,
	"atrfstart": true, "author": true, "bkmkend": true, "bkmkstart": true,
	"category": true, "colorschememapping": true, "colortbl": true,
	"comment": true, "company": true, "datafield": true, "datastore": true,
	"docvar": true, "doccomm": true, "falt": true, "fldinst": true,
	"fldtype": true, "filetbl": true, "fontemb": true, "fontfile": true,
	"footer": true, "footerf": true, "footerl": true, "footerr": true,
	"footnote": true, "formfield": true, "generator": true, "header": true,
	"headerf": true, "headerl": true, "headerr": true, "hlinkbase": true,
	"info": true, "keywords": true, "latentstyles": true, "listoverridetable": true,
	"listpicture": true, "listtable": true, "manager": true, "mhtmltag": true,
	"mmathPr": true, "nonesttables": true, "nonshppict": true, "object": true,
	"objdata": true, "operator": true, "panose": true, "pgdsctbl": true,
	"pict": true, "pn": true, "pntxta": true, "pntxtb": true, "revtbl": true,
	"rsidtbl": true, "rxe": true, "shpinst": true, "sn": true, "sp": true,
	"stylesheet": true, "subject": true, "sv": true, "tc": true, "template": true,
	"themedata": true, "title": true, "txe": true, "userprops": true,
	"wgrffmtfilter": true, "xe": true, "xmlnstbl": true,
}

// symbolWords are control words standing for one character.
var symbolWords = map[string]rune{
	"lquote": '\u2018', "rquote": '\u2019', "ldblquote": '\u201C', "rdblquote": '\u201D',
	"bullet": '\u2022', "endash": '\u2013', "emdash": '\u2014',
	"enspace": '\u2002', "emspace": '\u2003', "qmspace": '\u2005',
	"zwj": '\u200D', "zwnj": '\u200C', "ltrmark": '\u200E', "rtlmark": '\u200F',
}

type parser struct {
	lx   lexer
	html bool // HTML de-encapsulation rather than text extraction

	stack    []state
	cur      state
	overflow int // open groups beyond maxDepth, whose content is dropped

	groupStart bool // last token was '{' (or '{\*')
	ignorable  bool // saw \* right at the group start

	defaultCP int
	deff      int
	fonts     map[int]int // font number -> code page (0: document default)
	ftFont    int         // font being defined in \fonttbl
	fromText  bool

	out    []byte
	pend   []byte // undecoded text bytes, all in code page pendCP
	pendCP int
	dec    decoderCache
	skip   int  // fallback characters still to skip after \uN
	hi     rune // pending high surrogate from \uN
}

func newParser(rtf []byte, html bool) *parser {
	return &parser{
		lx:        lexer{src: rtf},
		html:      html,
		cur:       state{uc: 1, font: -1},
		defaultCP: cpDefault,
		fonts:     map[int]int{},
		dec:       decoderCache{},
		out:       make([]byte, 0, min(len(rtf)/4, 1<<20)),
	}
}

func (p *parser) run() {
	var t token
	for {
		p.lx.next(&t)
		if p.overflow > 0 && t.kind != tokGroupStart && t.kind != tokGroupEnd && t.kind != tokEOF {
			continue // inside groups nested deeper than maxDepth: dropped
		}
		switch t.kind {
		case tokEOF:
			p.finish()
			return
		case tokGroupStart:
			p.skip = 0
			p.groupStart, p.ignorable = true, false
			if p.overflow > 0 || len(p.stack) >= maxDepth {
				p.overflow++
				continue
			}
			p.stack = append(p.stack, p.cur)
		case tokGroupEnd:
			p.skip = 0
			p.groupStart, p.ignorable = false, false
			if p.overflow > 0 {
				p.overflow--
				continue
			}
			if len(p.stack) == 0 {
				continue // stray '}'
			}
			p.cur = p.stack[len(p.stack)-1]
			p.stack = p.stack[:len(p.stack)-1]
			if len(p.stack) == 0 {
				// The document group is closed; anything after it is junk.
				p.finish()
				return
			}
		case tokWord:
			p.word(&t)
		case tokSymbol:
			p.symbol(t.b)
		case tokHex:
			p.groupStart, p.ignorable = false, false
			if p.skip > 0 {
				p.skip--
				continue
			}
			if p.emitting() {
				p.appendText([]byte{t.b})
			}
		case tokText:
			p.groupStart, p.ignorable = false, false
			data := t.data
			if p.skip > 0 {
				n := min(p.skip, len(data))
				data = data[n:]
				p.skip -= n
			}
			if len(data) > 0 && p.emitting() {
				p.appendText(data)
			}
		case tokBin:
			p.groupStart, p.ignorable = false, false
			if p.skip > 0 {
				p.skip--
			}
		}
	}
}

func (p *parser) finish() {
	p.flushHi()
	p.flush()
}

// emitting reports whether text in the current state goes to the output.
func (p *parser) emitting() bool {
	switch p.cur.dest {
	case destNormal:
		return !p.cur.htmlrtf || !(p.html || p.fromText)
	case destHTMLTag:
		return true
	}
	return false
}

// codePage is the code page of text bytes in the current state.
func (p *parser) codePage() int {
	if p.cur.dest == destHTMLTag {
		return p.defaultCP
	}
	f := p.cur.font
	if f < 0 {
		f = p.deff
	}
	if cp := p.fonts[f]; cp != 0 {
		return cp
	}
	return p.defaultCP
}

func (p *parser) appendText(b []byte) {
	p.flushHi()
	cp := p.codePage()
	if len(p.pend) > 0 && cp != p.pendCP {
		p.flush()
	}
	p.pendCP = cp
	p.pend = append(p.pend, b...)
}

func (p *parser) flush() {
	if len(p.pend) == 0 {
		return
	}
	p.out = p.dec.appendDecoded(p.out, p.pend, p.pendCP)
	p.pend = p.pend[:0]
}

// flushHi emits U+FFFD for a high surrogate not followed by a low one.
func (p *parser) flushHi() {
	if p.hi != 0 {
		p.hi = 0
		p.flush()
		p.out = utf8.AppendRune(p.out, utf8.RuneError)
	}
}

func (p *parser) emitRune(r rune) {
	p.flushHi()
	p.flush()
	p.out = utf8.AppendRune(p.out, r)
}

func (p *parser) emitString(s string) {
	p.flushHi()
	p.flush()
	p.out = append(p.out, s...)
}

func (p *parser) newline() {
	if p.html {
		p.emitString("\r\n")
	} else {
		p.emitString("\n")
	}
}

// unicode handles \uN.
func (p *parser) unicode(n int) {
	p.skip = p.cur.uc
	if !p.emitting() {
		return
	}
	if n < 0 {
		n += 0x10000
	}
	if n < 0 || n > utf8.MaxRune {
		p.emitRune(utf8.RuneError)
		return
	}
	r := rune(n)
	switch {
	case utf16.IsSurrogate(r) && r < 0xDC00: // high
		p.flushHi()
		p.flush()
		p.hi = r
	case utf16.IsSurrogate(r): // low
		if p.hi == 0 {
			p.emitRune(utf8.RuneError)
			return
		}
		hi := p.hi
		p.hi = 0
		p.emitRune(utf16.DecodeRune(hi, r))
	default:
		p.emitRune(r)
	}
}

func (p *parser) symbol(c byte) {
	if c == '*' {
		if p.groupStart {
			p.ignorable = true
		}
		return
	}
	p.groupStart, p.ignorable = false, false
	if p.skip > 0 {
		p.skip--
		return
	}
	if !p.emitting() {
		return
	}
	switch c {
	case '\\', '{', '}':
		p.appendText([]byte{c})
	case '~':
		p.emitRune('\u00A0')
	case '_':
		p.emitRune('\u2011')
	case '\r', '\n':
		p.newline()
	case '\t':
		p.emitString("\t")
	}
	// \- (optional hyphen), \| and \: (formula, index) and unknown symbols
	// have no text.
}

func (p *parser) word(t *token) {
	ignorable := p.ignorable && p.groupStart
	p.groupStart, p.ignorable = false, false
	if p.skip > 0 {
		p.skip--
		return
	}
	if p.cur.dest == destSkip {
		return
	}
	name := string(t.name) // short and non-escaping: stays on the stack

	// Destinations.
	switch {
	case name == "htmltag":
		if ignorable && p.html && p.cur.dest == destNormal {
			p.cur.dest = destHTMLTag
		} else {
			p.cur.dest = destSkip
		}
		return
	case name == "fonttbl":
		p.cur.dest = destFontTable
		return
	case skipDest[name]:
		p.cur.dest = destSkip
		return
	case ignorable:
		p.cur.dest = destSkip // unknown {\*\dest ...}
		return
	}

	switch name {
	case "ansi":
		p.defaultCP = cpDefault
	case "mac":
		p.defaultCP = 10000
	case "pc":
		p.defaultCP = 437
	case "pca":
		p.defaultCP = 850
	case "ansicpg":
		if t.param > 0 {
			p.defaultCP = t.param
		}
	case "deff":
		p.deff = t.param
	case "f":
		if p.cur.dest == destFontTable {
			p.ftFont = t.param
		} else {
			p.cur.font = t.param
		}
	case "fcharset":
		if p.cur.dest == destFontTable {
			p.setFontCP(charsetCodePage(t.param))
		}
	case "cpg":
		if p.cur.dest == destFontTable && t.param > 0 {
			p.setFontCP(t.param)
		}
	case "uc":
		if t.hasParam {
			p.cur.uc = max(0, min(t.param, maxUC))
		}
	case "u":
		p.unicode(t.param)
	case "htmlrtf":
		p.cur.htmlrtf = !t.hasParam || t.param != 0
	case "par", "line":
		if p.emitting() {
			p.newline()
		}
	case "tab":
		if p.emitting() {
			p.emitString("\t")
		}
	case "sect", "page", "row":
		if !p.html && p.emitting() {
			p.newline()
		}
	case "cell", "nestcell":
		if !p.html && p.emitting() {
			p.emitString("\t")
		}
	default:
		if r, ok := symbolWords[name]; ok && p.emitting() {
			p.emitRune(r)
		}
	}
}

func (p *parser) setFontCP(cp int) {
	if _, ok := p.fonts[p.ftFont]; ok || len(p.fonts) < maxFonts {
		p.fonts[p.ftFont] = cp
	}
}
