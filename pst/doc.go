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
// Opened with OpenRecover, a damaged file gives what can be read
// (File.Damage lists what could not): a B-tree page that cannot be read
// costs the entries below it; the file's pages are then scanned for B-tree
// leaf pages with a valid checksum (intact files are never scanned);
// folders list, besides their tables' rows, the items and subfolders whose
// node B-tree parent id names them; Walk puts what no reachable folder
// holds under a "Recovered" folder; Salvage reads an item without the
// parts that cannot be read (Message.Missing names them). Open stays
// strict: a damaged index fails it.
//
// Usage:
//
//	f, err := pst.Open("mail.pst")
//	root, err := f.Root()
//	subs, err := root.Subfolders()
//	refs, err := folder.Items()
//	msg, err := f.Message(refs[0].NID)
package pst
