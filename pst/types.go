package pst

// Format is the PST file format.
type Format int

// Formats.
const (
	FormatANSI      Format = 1
	FormatUnicode   Format = 2
	FormatUnicode4K Format = 3 // OST 2013 with 4 KiB pages
)

func (f Format) String() string {
	switch f {
	case FormatANSI:
		return "ansi"
	case FormatUnicode:
		return "unicode"
	case FormatUnicode4K:
		return "unicode-4k"
	}
	return "unknown"
}

// Encryption is the block encoding ([MS-PST] bCryptMethod).
type Encryption int

// Encryptions.
const (
	EncryptNone    Encryption = 0
	EncryptPermute Encryption = 1
	EncryptCyclic  Encryption = 2
)

func (e Encryption) String() string {
	switch e {
	case EncryptNone:
		return "none"
	case EncryptPermute:
		return "permute"
	case EncryptCyclic:
		return "cyclic"
	}
	return "unknown"
}

// Info describes an open file.
type Info struct {
	Format     Format
	Encryption Encryption
	Size       int64
	OST        bool // content type "SO" (OST) rather than "SM" (PST)
}

// Folder is one folder of the hierarchy.
type Folder struct {
	NID            uint32
	Name           string
	ContainerClass string // PidTagContainerClass, e.g. "IPF.Appointment"
	ContentCount   int    // PidTagContentCount as stored
	Path           []string
	Props          *Props
	// ParentNID is the node id of the folder that lists this one (Walk's
	// parent; 0 for a folder listed by the Recovered folder).
	ParentNID uint32
	f         *File
	// synthetic: the Recovered folder of a damaged file, which lists the
	// orphan items and folders below instead of tables.
	synthetic     bool
	orphans       []uint32
	orphanFolders []uint32
}

// IsRecovered reports whether the folder is the Recovered folder Walk adds
// for a damaged file's orphan folders and items.
func (fo *Folder) IsRecovered() bool { return fo.synthetic }

// IsSearchFolder reports whether the folder is a search folder (its
// contents are links to items stored elsewhere).
func (fo *Folder) IsSearchFolder() bool { return fo.NID&0x1F == nidTypeSearchFolder }

// ItemRef is one row of a folder's contents table.
type ItemRef struct {
	NID   uint32
	Class string // PidTagMessageClass from the contents table (may be "")
}
