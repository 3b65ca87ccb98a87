// Package pst reads Outlook PST and OST files: Unicode and ANSI formats,
// none/permute/cyclic encryption, folders, items of every class with their
// recipients and attachments (embedded messages to any depth), named
// properties resolved through the file's name-to-id map.
//
// The node and block layers ([MS-PST] NDB) and the heap, property and table
// contexts ([MS-PST] LTP) are implemented here rather than through go-pst
// v6.0.2, whose NDB layer cannot read ANSI files or cyclic encryption and
// panics on damaged input; go-pst serves as an independent reader in tests.
//
// Reading is defensive: every structure is bounds-checked, and a failure
// inside one item is returned as an *ItemError so callers can report it and
// go on. Nothing in this package prints.
//
// Usage:
//
//	f, err := pst.Open("mail.pst")
//	root, err := f.Root()
//	subs, err := root.Subfolders()
//	refs, err := folder.Items()
//	msg, err := f.Message(refs[0].NID)
package pst
