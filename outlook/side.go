package outlook

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pstsync/pstsync/merge"
)

// The pieces a sync needs to use Outlook as a user's side: reading a
// folder into merge.Docs with stable keys and a "read completely" status,
// and delivering merged docs into it. They are written against Bridge only,
// so the syncer's adapter stays small.

// ErrPrivateKept is returned by Deliver and Remove for an item marked
// private in Outlook: pstsync never changes or deletes it (the shared side
// holds only its busy time, so any change coming back is not the owner's).
var ErrPrivateKept = errors.New("outlook: private item left as it is")

// KeyPrefix starts the stable source key of an Outlook item: "eid:" and its
// EntryID.
const KeyPrefix = "eid:"

// Key is the stable source key of an entry.
func Key(e Entry) string { return KeyPrefix + e.ID }

// FolderFor maps a sync collection name to its Outlook folder: "calendar"
// and "contacts" to the default folders, "share/NAME" to the named folder.
func FolderFor(collection string) (FolderRef, bool) {
	switch {
	case collection == "calendar":
		return FolderRef{Kind: Calendar}, true
	case collection == "contacts":
		return FolderRef{Kind: Contacts}, true
	case strings.HasPrefix(collection, "share/"):
		return FolderRef{Kind: Named, Name: strings.TrimPrefix(collection, "share/")}, true
	}
	return FolderRef{}, false
}

// SideItem is one item of a folder as a sync sees it.
type SideItem struct {
	Key   string
	Entry Entry
	// Doc is the converted item; nil when unchanged said the item is the
	// one delivered or read last time (not read at all).
	Doc *merge.Doc
	// Private: Sensitivity private or confidential (only known for items
	// that were read).
	Private bool
}

// ReadFolder lists a folder and reads every item that unchanged does not
// recognise. complete is false when some item could not be read or
// converted (it is left out, and the errors are returned): a sync must
// then infer no deletion from this folder. An item deleted between the
// listing and its read is simply absent. A blocked or hung Outlook stops
// the read with its error.
func ReadFolder(ctx context.Context, b Bridge, f FolderRef, unchanged func(Entry) bool) (items []SideItem, complete bool, errs []error, err error) {
	entries, err := b.List(ctx, f)
	if err != nil {
		return nil, false, nil, err
	}
	complete = true
	for _, e := range entries {
		if unchanged != nil && unchanged(e) {
			items = append(items, SideItem{Key: Key(e), Entry: e})
			continue
		}
		it, err := b.Read(ctx, f, e.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case errors.Is(err, ErrBlocked), errors.Is(err, ErrTimeout), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil, false, errs, err
		case err != nil:
			complete = false
			errs = append(errs, fmt.Errorf("outlook: %s item %s: %w", f, e.ID, err))
			continue
		}
		d, err := ToDoc(it)
		if err != nil {
			complete = false
			errs = append(errs, err)
			continue
		}
		items = append(items, SideItem{Key: Key(it.Entry), Entry: it.Entry, Doc: d, Private: it.Private()})
	}
	return items, complete, errs, nil
}

// Deliver writes a merged doc into Outlook: a new item when key is "",
// else the item with that key. It refuses to change a private item
// (ErrPrivateKept). The returned entry is what to store as delivered (its
// EntryID, modification time and change key).
func Deliver(ctx context.Context, b Bridge, f FolderRef, key string, d *merge.Doc) (Entry, error) {
	w, err := FromDoc(d)
	if err != nil {
		return Entry{}, err
	}
	id := strings.TrimPrefix(key, KeyPrefix)
	if id != "" {
		cur, err := b.Read(ctx, f, id)
		if err != nil {
			return Entry{}, err
		}
		if cur.Private() {
			return cur.Entry, fmt.Errorf("%w: %s", ErrPrivateKept, d.UID)
		}
	}
	return b.Write(ctx, f, id, w)
}

// Remove deletes an item (Outlook moves it to Deleted Items), unless it is
// private (ErrPrivateKept). An item already gone is no error.
func Remove(ctx context.Context, b Bridge, f FolderRef, key string) error {
	id := strings.TrimPrefix(key, KeyPrefix)
	cur, err := b.Read(ctx, f, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.Private() {
		return ErrPrivateKept
	}
	return b.Delete(ctx, f, id)
}
