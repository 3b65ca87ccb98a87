package syncer

import (
	"os"
	"syscall"

	"github.com/pstsync/pstsync/snapshot"
)

// fileStatOf is what fi says of its file's content (see
// snapshot.FileStat): size, times and identity.
func fileStatOf(fi os.FileInfo) snapshot.FileStat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return snapshot.FileStat{}
	}
	return snapshot.FileStat{Size: st.Size, MTime: st.Mtim.Nano(), CTime: st.Ctim.Nano(), Inode: st.Ino, Dev: uint64(st.Dev)}
}
