//go:build !pstrtf

package mail

import "errors"

// rtfBody is a stand-in until package pst/rtf exists.
func rtfBody(compressed []byte) (html, text string, err error) {
	return "", "", errors.New("rtf: not available")
}
