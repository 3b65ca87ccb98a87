package syncer

import (
	"context"
	"fmt"

	"github.com/pstsync/pstsync/snapshot"
)

// Input is one user's side for MergeMany.
type Input struct {
	User   string
	PST    string // the user's PST, or
	Source string // a folder of .ics/.vcf files
}

// MergeMany seeds or rebuilds the snapshot from several users at once: it
// syncs each input in turn (same rules, same identity matching, so the
// same person in two PSTs becomes one shared contact) without writing a
// mailbox. opts gives the common options (OnConflict, DryRun, Now, ...);
// its User, PST, Source, Repo and Mailbox are ignored. It stops at the
// first failure and returns the results so far.
func MergeMany(ctx context.Context, repo *snapshot.Repo, inputs []Input, opts Options) ([]*Result, error) {
	var out []*Result
	for _, in := range inputs {
		o := opts
		o.User, o.PST, o.Source, o.Repo, o.Mailbox = in.User, in.PST, in.Source, repo, ""
		res, err := Sync(ctx, o)
		if err != nil {
			return out, fmt.Errorf("syncer: merging %s (%s%s): %w", in.User, in.PST, in.Source, err)
		}
		out = append(out, res)
	}
	return out, nil
}
