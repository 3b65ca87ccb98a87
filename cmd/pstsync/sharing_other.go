//go:build !windows

package main

// isSharingViolation reports a Windows sharing violation; never on this OS.
func isSharingViolation(error) bool { return false }
