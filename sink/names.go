package sink

import (
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes bounds the length of a name made by SafeName. Linux allows
// 255 bytes per component and Windows 255 UTF-16 units; staying well below
// leaves room for prefixes, suffixes and temporary-file decorations.
const maxNameBytes = 100

// windowsReserved are device names that Windows refuses as file names, also
// with an extension ("CON.txt") and in any case.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM0": true, "COM1": true, "COM2": true, "COM3": true, "COM4": true,
	"COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"COM¹": true, "COM²": true, "COM³": true,
	"LPT0": true, "LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true,
	"LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"LPT¹": true, "LPT²": true, "LPT³": true,
}

// isReserved reports whether stem is a reserved device name. The longest,
// "CONOUT$", has 7 characters and upper-casing turns at most 3 bytes into
// 1: longer stems skip the upper-casing (a copy of every file name).
func isReserved(stem string) bool {
	return len(stem) <= 21 && windowsReserved[strings.ToUpper(stem)]
}

// SafeName maps s to a single file-name component that is valid on Unix,
// Windows and macOS. The mapping is deterministic and leaves ordinary names
// (letters of any script, digits, spaces, most punctuation) unchanged:
//
//   - path separators, the characters Windows forbids (< > : " / \ | ? *),
//     control characters, invalid UTF-8 and bidirectional-override marks are
//     replaced by '_';
//   - leading and trailing spaces and trailing dots are removed (Windows
//     drops them silently), and a leading dot becomes '_' (no hidden files,
//     no "." or "..");
//   - Windows device names (CON, NUL, COM1, LPT1, ... also with an
//     extension) get a '_' appended to their stem;
//   - the result is cut to at most 99 bytes on a UTF-8 boundary (after
//     the device-name '_', so that SafeName is idempotent);
//   - an empty result becomes "_".
func SafeName(s string) string {
	name := s
	if !plainName(s) {
		name = safeRunes(s)
	}
	name = strings.Trim(name, " ")
	if strings.HasPrefix(name, ".") {
		name = "_" + name[1:]
	}
	name = cutName(name)
	if name == "" {
		return "_"
	}
	if stem, ext, dot := strings.Cut(name, "."); isReserved(strings.TrimRight(stem, " ")) {
		name = stem + "_"
		if dot {
			name += "." + ext
		}
		// The '_' can push the name past the cut; cut again so that the
		// result is a fixed point (SafeName(SafeName(s)) == SafeName(s)).
		// The cut never reaches stem+"_": a stem followed by a dot is at most
		// cutBytes-2 bytes, so the result keeps a non-reserved stem.
		name = cutName(name)
	}
	return name
}

// safeRunes replaces the characters that SafeName does not keep.
func safeRunes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteByte('_')
		case unicode.IsSpace(r):
			b.WriteByte(' ') // tabs, NBSP, line separators: plain space
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte('_')
		case strings.ContainsRune(reservedChars, r):
			b.WriteByte('_')
		case isBidiControl(r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainName reports whether s is printable ASCII without a character
// that safeRunes replaces (the usual case: nothing to rewrite).
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || strings.IndexByte(reservedChars, c) >= 0 {
			return false
		}
	}
	return true
}

// reservedChars cannot appear in file names on Windows (and '/' nowhere).
const reservedChars = `<>:"/\|?*`

// folderPaths caches FolderPath for the folders of one writer (an export
// asks for the same few paths thousands of times). Safe for concurrent use.
type folderPaths struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *folderPaths) get(folder []string) string {
	key := strings.Join(folder, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if rel, ok := c.m[key]; ok {
		return rel
	}
	if c.m == nil {
		c.m = make(map[string]string)
	}
	rel := FolderPath(folder)
	c.m[key] = rel
	return rel
}

// cutBytes is where SafeName cuts long names. It is one below maxNameBytes
// for historical reasons (a byte used to stay free for the '_' of a device
// name); it must not change, since SafeName output names files on disk
// (exports, synced vdir folders) and a new cut would rename them.
const cutBytes = maxNameBytes - 1

// cutName cuts name to cutBytes on a UTF-8 boundary and drops the trailing
// spaces and dots that the cut may expose. It is idempotent.
func cutName(name string) string {
	return strings.TrimRight(truncateUTF8(name, cutBytes), " .")
}

func isBidiControl(r rune) bool {
	return r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) ||
		(r >= 0x2066 && r <= 0x2069) || r == 0x061c || r == 0xfeff
}

// FolderPath maps a folder path (one element per level, e.g. {"Inbox",
// "Projects/2024"}) to a relative file path whose every component went
// through SafeName. It never contains ".." or absolute components. An empty
// folder path maps to ".".
func FolderPath(folder []string) string {
	parts := make([]string, len(folder))
	for i, f := range folder {
		parts[i] = SafeName(f)
	}
	if len(parts) == 0 {
		return "."
	}
	return filepath.Join(parts...)
}

// folderKey identifies a mapped folder for collision handling: file systems
// on Windows and macOS are case-insensitive, so folders that differ only in
// case share one directory and must share counters and files.
func folderKey(rel string) string {
	return strings.ToLower(filepath.ToSlash(rel))
}
