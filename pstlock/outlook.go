package pstlock

import "strings"

// OutlookRunning reports whether Outlook (OUTLOOK.EXE) is running on this
// PC. A sync uses it to choose its path: while Outlook runs, the PST is
// held and the user's side is read from Outlook itself through the bridge
// (package outlook); otherwise the PST file is read. It is always false
// outside Windows.
func OutlookRunning() (bool, error) { return outlookRunning() }

// isOutlookImage reports whether a process image name is Outlook's.
func isOutlookImage(name string) bool {
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	return strings.EqualFold(name, "outlook.exe")
}
