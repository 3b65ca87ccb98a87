package merge

import (
	"errors"
	"strings"

	"github.com/pstsync/pstsync/sink"
)

// Message field keys. The content is immutable and identified by its hash;
// only the folder and the flags merge (each flag is its own key, present
// when set, so a flag set or cleared on one side since base wins and both
// sides' changes to different flags combine).
const (
	MsgContent = "CONTENT"
	MsgFolder  = "FOLDER"
	msgFlag    = "FLAG="
)

var flagNames = []struct {
	flag sink.MailFlags
	name string
}{
	{sink.FlagSeen, "SEEN"},
	{sink.FlagAnswered, "ANSWERED"},
	{sink.FlagFlagged, "FLAGGED"},
	{sink.FlagDraft, "DRAFT"},
	{sink.FlagForwarded, "FORWARDED"},
	{sink.FlagDeleted, "DELETED"},
}

// FromMessage builds the Doc of a message: uid is its shared identity
// (Message-ID or content hash), contentHash the hash of its immutable EML
// object, folder the shared folder path.
func FromMessage(uid, contentHash, folder string, flags sink.MailFlags) *Doc {
	d := &Doc{UID: uid, Kind: KindMessage, Fields: make(map[string]Field, 4)}
	d.Fields[MsgContent] = Field{Name: MsgContent, Value: contentHash}
	if folder != "" {
		d.Fields[MsgFolder] = Field{Name: MsgFolder, Value: folder}
	}
	for _, fl := range flagNames {
		if flags&fl.flag != 0 {
			d.Fields[msgFlag+fl.name] = Field{Name: "FLAG", Value: fl.name}
		}
	}
	return d
}

// ToMessage returns the content hash, folder and flags of a message Doc.
func ToMessage(d *Doc) (contentHash, folder string, flags sink.MailFlags) {
	if d == nil {
		return "", "", 0
	}
	contentHash = d.Fields[MsgContent].Value
	folder = d.Fields[MsgFolder].Value
	for _, fl := range flagNames {
		if _, ok := d.Fields[msgFlag+fl.name]; ok {
			flags |= fl.flag
		}
	}
	return contentHash, folder, flags
}

func messageCanonical(d *Doc) []byte {
	h, folder, flags := ToMessage(d)
	var sb strings.Builder
	sb.WriteString("UID:" + oneLine(d.UID) + "\r\n")
	sb.WriteString("CONTENT:" + oneLine(h) + "\r\n")
	sb.WriteString("FOLDER:" + oneLine(folder) + "\r\n")
	var names []string
	for _, fl := range flagNames {
		if flags&fl.flag != 0 {
			names = append(names, fl.name)
		}
	}
	sb.WriteString("FLAGS:" + strings.Join(names, ",") + "\r\n")
	return []byte(sb.String())
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// decodeMessageRecord reads messageCanonical's record ("UID:",
// "CONTENT:", "FOLDER:", "FLAGS:" lines).
func decodeMessageRecord(data []byte) (*Doc, error) {
	var uid, content, folder string
	var flags sink.MailFlags
	for _, line := range strings.Split(string(data), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(v)
		switch k {
		case "UID":
			uid = v
		case "CONTENT":
			content = v
		case "FOLDER":
			folder = v
		case "FLAGS":
			for _, n := range strings.Split(v, ",") {
				for _, fl := range flagNames {
					if n == fl.name {
						flags |= fl.flag
					}
				}
			}
		}
	}
	if uid == "" || content == "" {
		return nil, errors.New("merge: message record without UID or CONTENT")
	}
	return FromMessage(uid, content, folder, flags), nil
}
