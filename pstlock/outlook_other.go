//go:build !windows

package pstlock

func outlookRunning() (bool, error) { return false, nil }
