package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// auditFile is audit/<first %012d>-<last %012d>.json: the headers (without
// deltas) of revisions prune removed, so that who changed what and when,
// and the conflicts recorded, outlive the revisions.
type auditFile struct {
	Version   int      `json:"version"`
	Revisions []Header `json:"revisions"`
}

// AuditKey is the store key of the audit record of the revisions first to
// last, written by prune.
func AuditKey(first, last int64) string {
	return fmt.Sprintf("%s%012d-%012d.json", auditPrefix, first, last)
}

func parseAuditKey(key string) bool {
	name, ok := strings.CutPrefix(key, auditPrefix)
	if !ok {
		return false
	}
	name, ok = strings.CutSuffix(name, ".json")
	a, b, ok2 := strings.Cut(name, "-")
	if !ok || !ok2 {
		return false
	}
	_, e1 := strconv.ParseInt(a, 10, 64)
	_, e2 := strconv.ParseInt(b, 10, 64)
	return e1 == nil && e2 == nil
}

// Audit returns the audit records of pruned revisions, ascending by
// revision. Unreadable audit files are skipped with a warning.
func (r *Repo) Audit(ctx context.Context) ([]Header, error) {
	keys, err := r.store.List(ctx, auditPrefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot: listing audit records: %w", err)
	}
	var out []Header
	for _, k := range keys {
		if !parseAuditKey(k) {
			continue
		}
		data, _, err := r.store.Get(ctx, k)
		if err != nil {
			r.logger.WarnContext(ctx, "snapshot: audit record unreadable", "key", k, "err", err)
			continue
		}
		var af auditFile
		if err := json.Unmarshal(data, &af); err != nil {
			r.logger.WarnContext(ctx, "snapshot: audit record unreadable", "key", k, "err", err)
			continue
		}
		out = append(out, af.Revisions...)
	}
	slices.SortFunc(out, func(a, b Header) int { return int(a.Rev - b.Rev) })
	return out, nil
}
