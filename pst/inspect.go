package pst

import (
	"context"
	"fmt"
)

// FolderSummary describes one folder for `pstsync inspect`.
type FolderSummary struct {
	Path           string         `json:"path"`
	Name           string         `json:"name"`
	NID            uint32         `json:"nid"`
	ContainerClass string         `json:"container_class"`
	ContentCount   int            `json:"content_count"`
	Items          int            `json:"items"`
	Classes        map[string]int `json:"classes"`
	Errors         int            `json:"errors"`
	Search         bool           `json:"search_folder,omitempty"`
}

// Summary describes a whole file.
type Summary struct {
	File       string          `json:"file"`
	Format     string          `json:"format"`
	Encryption string          `json:"encryption"`
	OST        bool            `json:"ost"`
	Size       int64           `json:"size"`
	Folders    []FolderSummary `json:"folders"`
	Totals     map[Kind]int    `json:"totals"`
	Errors     []string        `json:"errors"`
}

// Summarize walks the folder tree and counts items per message class from
// the contents tables (items are not opened). Search folders are listed but
// their items are not counted (they are links to items stored elsewhere).
func (f *File) Summarize(ctx context.Context, name string) (*Summary, error) {
	s := &Summary{File: name, Format: f.info.Format.String(), Encryption: f.info.Encryption.String(),
		OST: f.info.OST, Size: f.info.Size, Totals: map[Kind]int{}, Errors: []string{}}
	for _, k := range Kinds {
		s.Totals[k] = 0
	}
	for _, err := range f.Damage() {
		s.Errors = append(s.Errors, "damaged: "+err.Error())
	}
	err := f.Walk(ctx, func(fo *Folder) error {
		fs := FolderSummary{Path: fo.PathString(), Name: fo.Name, NID: fo.NID, ContainerClass: fo.ContainerClass,
			ContentCount: fo.ContentCount, Classes: map[string]int{}, Search: fo.IsSearchFolder()}
		if !fs.Search {
			refs, err := fo.Items()
			if err != nil {
				fs.Errors++
				s.Errors = append(s.Errors, err.Error())
			}
			for _, r := range refs {
				fs.Items++
				fs.Classes[r.Class]++
				s.Totals[KindOf(r.Class)]++
			}
		}
		s.Folders = append(s.Folders, fs)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		s.Errors = append(s.Errors, fmt.Sprintf("folder tree: %v", err))
	}
	return s, nil
}
