package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/pstsync/pstsync/sink"
)

// Key prefixes of the repository layout.
const (
	objectsPrefix   = "objects/"
	revisionsPrefix = "revisions/"
	conflictsPrefix = "conflicts/"
	usersPrefix     = "users/"
	stateName       = "/state.json"
	auditPrefix     = "audit/"
	headKey         = "head.json"
	// prunedKey records below which revision number prune has removed
	// revisions (see Repo.stalePut).
	prunedKey = "pruned.json"
)

// HashOf returns the hash naming data as an object: lowercase hex SHA-256.
func HashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ValidHash reports whether h is a well-formed object hash (64 lowercase
// hex digits).
func ValidHash(h string) bool {
	if len(h) != 2*sha256.Size {
		return false
	}
	// One table lookup per digit: no branch to mispredict between digits
	// and letters (a state holds tens of thousands of hashes).
	bad := false
	for i := 0; i < len(h); i++ {
		bad = bad || !lowerHex[h[i]]
	}
	return !bad
}

var lowerHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return t
}()

// ObjectKey is the store key of the object with hash h.
func ObjectKey(h string) string { return objectsPrefix + h[:2] + "/" + h }

// RevisionKey is the store key of revision rev's manifest.
func RevisionKey(rev int64) string { return fmt.Sprintf("%s%012d.json", revisionsPrefix, rev) }

// ConflictsKey is the store key of the conflicts recorded with revision rev.
func ConflictsKey(rev int64) string { return fmt.Sprintf("%s%012d.json", conflictsPrefix, rev) }

// StateKey is the store key of user's state. The user name must be valid
// (see ValidUser).
func StateKey(user string) string { return usersPrefix + user + stateName }

// parseRevisionKey returns the revision a key of revisions/ names, or false
// for any other key (temporary files, stray names).
// parseStateKey returns the user whose state file key is (the inverse of
// StateKey); ok is false for any other key under users/.
func parseStateKey(key string) (user string, ok bool) {
	user, ok = strings.CutSuffix(strings.TrimPrefix(key, usersPrefix), stateName)
	return user, ok && !strings.Contains(user, "/")
}

func parseRevisionKey(key string) (int64, bool) {
	name, ok := strings.CutPrefix(key, revisionsPrefix)
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(name, ".json")
	if !ok || len(num) != 12 {
		return 0, false
	}
	rev, err := strconv.ParseInt(num, 10, 64)
	if err != nil || rev < 1 || num[0] == '+' || num[0] == '-' {
		return 0, false
	}
	return rev, true
}

// parseObjectKey returns the hash an objects/ key names, or false.
func parseObjectKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, objectsPrefix)
	if !ok || len(rest) != 3+2*sha256.Size || rest[2] != '/' {
		return "", false
	}
	h := rest[3:]
	if !ValidHash(h) || h[:2] != rest[:2] {
		return "", false
	}
	return h, true
}

// ValidUser reports whether name can be a user name: it becomes a path
// component of the store (a folder on Windows shares), so it must be
// non-empty, at most 128 bytes, without slashes, backslashes, control
// characters or the characters Windows forbids in file names, without
// leading or trailing spaces, not starting or ending with a dot, and make a
// valid store key (sink.CheckKey).
func ValidUser(name string) bool {
	if name == "" || len(name) > 128 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return false
	}
	if strings.TrimSpace(name) != name {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || strings.ContainsRune(`/\:*?"<>|`, r) {
			return false
		}
	}
	return sink.CheckKey(StateKey(name)) == nil
}
