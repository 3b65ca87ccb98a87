package sink

import "testing"

// Unnamed files linked through /proc/self/fd: the way taken without
// CAP_DAC_READ_SEARCH (tests usually run as root, where AT_EMPTY_PATH
// works).
func init() {
	tempKinds = append(tempKinds, tempKind{"unnamed-via-proc", func(t *testing.T) {
		setNamedTemp(t, false)
		old := noEmptyPathLink.Load()
		noEmptyPathLink.Store(true)
		t.Cleanup(func() { noEmptyPathLink.Store(old) })
	}})
}
