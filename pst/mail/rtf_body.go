package mail

import "github.com/pstsync/pstsync/pst/rtf"

// rtfBody decompresses PidTagRtfCompressed and returns the HTML it
// encapsulates (\fromhtml1) or, failing that, its plain text.
func rtfBody(compressed []byte) (html, text string, err error) {
	raw, err := rtf.Decompress(compressed)
	if err != nil {
		return "", "", err
	}
	if h, ok := rtf.ExtractHTML(raw); ok {
		return h, "", nil
	}
	return "", rtf.ExtractText(raw), nil
}
