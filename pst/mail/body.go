package mail

import (
	"mime"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/pstsync/pstsync/pst"
)

// bodies returns the plain text and HTML bodies of p. HTML comes from
// PidTagHtml (string, or bytes in the PidTagInternetCodepage charset); when
// there is none, from the RTF body when it encapsulates HTML; the plain text
// comes from PidTagBody, or from the RTF when PidTagBody is missing.
func bodies(p *pst.Props) (plain, html string) {
	cp := func(id uint16) int64 {
		n, _ := p.Int(id)
		return n
	}
	icp, mcp := cp(pst.TagInternetCodepage), cp(pst.TagMessageCodepage)
	if x, ok := p.Get(pst.TagBody); ok {
		switch v := x.Value.(type) {
		case string:
			plain = v
		case []byte:
			plain = decodeBytes(trimNUL(v), false, mcp, icp, int64(p.CodePage))
		}
	}
	if x, ok := p.Get(pst.TagHTML); ok {
		switch v := x.Value.(type) {
		case string:
			html = v
		case []byte:
			html = decodeBytes(trimNUL(v), true, icp, mcp, int64(p.CodePage))
		}
	}
	if strings.TrimSpace(html) == "" {
		html = ""
		if rtfc := p.Binary(pst.TagRTFCompressed); len(rtfc) > 0 {
			if h, t, err := rtfBody(rtfc); err == nil {
				if strings.TrimSpace(h) != "" {
					html = h
				} else if strings.TrimSpace(plain) == "" {
					plain = t
				}
			}
		}
	}
	plain = strings.TrimRight(plain, "\x00")
	html = strings.TrimRight(html, "\x00")
	if html != "" {
		html = relabelHTMLCharset(html)
	}
	return plain, html
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

var cidRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)cid:([^"'\s<>)]+)`) })

// cidRefs returns the lower-cased Content-IDs referenced from html.
func cidRefs(html string) map[string]bool {
	refs := make(map[string]bool)
	for _, m := range cidRE().FindAllStringSubmatch(html, -1) {
		id := strings.ToLower(m[1])
		refs[id] = true
		if u, err := url.PathUnescape(id); err == nil {
			refs[u] = true
		}
	}
	return refs
}

// contentID returns the attachment's Content-ID without angle brackets, or
// "" when it has none usable.
func contentID(a *pst.Attachment) string {
	id := strings.TrimSpace(a.Props.String(pst.TagAttachContentID))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id == "" || len(id) > 900 || strings.ContainsAny(id, " \t\r\n<>\x00") {
		return ""
	}
	return cleanText(id)
}

// extTypes are the types used for common extensions, checked before the
// system table so output does not depend on the host's mime.types.
var extTypes = map[string]string{
	".7z":   "application/x-7z-compressed",
	".bmp":  "image/bmp",
	".csv":  "text/csv",
	".doc":  "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".gif":  "image/gif",
	".gz":   "application/gzip",
	".htm":  "text/html",
	".html": "text/html",
	".ics":  "text/calendar",
	".jpeg": "image/jpeg",
	".jpg":  "image/jpeg",
	".js":   "text/javascript",
	".json": "application/json",
	".mp3":  "audio/mpeg",
	".mp4":  "video/mp4",
	".msg":  "application/vnd.ms-outlook",
	".odt":  "application/vnd.oasis.opendocument.text",
	".pdf":  "application/pdf",
	".png":  "image/png",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".rtf":  "application/rtf",
	".svg":  "image/svg+xml",
	".tif":  "image/tiff",
	".tiff": "image/tiff",
	".txt":  "text/plain",
	".vcf":  "text/vcard",
	".wav":  "audio/wav",
	".webp": "image/webp",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".xml":  "application/xml",
	".zip":  "application/zip",
}

// attachType returns the media type of a by-value attachment:
// PidTagAttachMimeTag, else by extension, else application/octet-stream.
// Composite types (multipart/*, message/*) are not allowed with base64 and
// become application/octet-stream.
func attachType(a *pst.Attachment, name string) string {
	const fallback = "application/octet-stream"
	usable := func(t string) string {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil || !strings.Contains(mt, "/") || strings.HasSuffix(mt, "/") || strings.HasPrefix(mt, "/") {
			return ""
		}
		if strings.HasPrefix(mt, "multipart/") || strings.HasPrefix(mt, "message/") || !isToken(strings.ReplaceAll(mt, "/", "")) {
			return ""
		}
		return mt
	}
	if a.Method() == pst.AttachOLE {
		return fallback
	}
	if t := usable(strings.TrimSpace(a.Props.String(pst.TagAttachMimeTag))); t != "" {
		return t
	}
	ext := strings.ToLower(path.Ext(name))
	if ext == "" || len(ext) > 16 {
		ext = strings.ToLower(strings.TrimSpace(a.Props.String(pst.TagAttachExtension)))
	}
	if ext == "" || len(ext) > 16 {
		return fallback
	}
	if !strings.HasPrefix(ext, ".") {
		ext = "." + ext
	}
	if t, ok := extTypes[ext]; ok {
		return t
	}
	if t := usable(mime.TypeByExtension(ext)); t != "" {
		return t
	}
	return fallback
}

// safeFilename makes a file name fit for a header parameter: no control
// characters, no directory part.
func safeFilename(s string) string {
	s = cleanText(s)
	s = strings.NewReplacer("/", "_", "\\", "_").Replace(s)
	s = strings.Trim(s, " .")
	if len(s) > 1000 {
		// Keep the extension, cut on a rune boundary.
		ext := path.Ext(s)
		if len(ext) > 16 {
			ext = ""
		}
		cut := 1000 - len(ext)
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + ext
	}
	return s
}
