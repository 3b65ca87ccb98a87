package com

import (
	"errors"
	"testing"

	"github.com/pstsync/pstsync/outlook"
)

// TestClassify checks that each HRESULT Outlook gives for "not installed",
// "not running", a denied or blocked access, a busy or gone Outlook and a
// missing item becomes the outlook error with its one-line remedy.
func TestClassify(t *testing.T) {
	tests := []struct {
		code uint32
		def  error
		want error
	}{
		{hrClassString, outlook.ErrNotInstalled, outlook.ErrNotInstalled},
		{hrUnavailable, outlook.ErrNotRunning, outlook.ErrNotRunning},
		{hrAborted, nil, outlook.ErrBlocked},
		{hrAccessDenied, nil, outlook.ErrBlocked},
		{hrCallRejected, nil, outlook.ErrTimeout},
		{hrRetryLater, nil, outlook.ErrTimeout},
		{hrDisconnected, nil, outlook.ErrTimeout},
		{hrServerUnavail, nil, outlook.ErrTimeout},
		{hrObjectNotFound, nil, outlook.ErrNotFound},
		{hrInvalidEntryID, nil, outlook.ErrNotFound},
	}
	for _, tc := range tests {
		err := classify(uintptr(tc.code), "text", tc.def)
		if !errors.Is(err, tc.want) {
			t.Errorf("0x%08X: %v, want %v", tc.code, err, tc.want)
		}
	}
	if err := classify(0x80004005, "Unspecified error", nil); err == nil || err.Error() != "outlook: COM error 0x80004005: Unspecified error" {
		t.Errorf("other code: %v", err)
	}
}
