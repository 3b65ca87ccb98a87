package pst

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"
	"unsafe"
)

// PropType is a MAPI property type ([MS-OXCDATA] 2.11.1).
type PropType uint16

// Property types used in PST files.
const (
	TypeInt16    PropType = 0x0002
	TypeInt32    PropType = 0x0003
	TypeFloat32  PropType = 0x0004
	TypeFloat64  PropType = 0x0005
	TypeCurrency PropType = 0x0006
	TypeAppTime  PropType = 0x0007
	TypeError    PropType = 0x000A
	TypeBool     PropType = 0x000B
	TypeObject   PropType = 0x000D
	TypeInt64    PropType = 0x0014
	TypeString8  PropType = 0x001E
	TypeString   PropType = 0x001F
	TypeTime     PropType = 0x0040
	TypeGUID     PropType = 0x0048
	TypeServerID PropType = 0x00FB
	TypeBinary   PropType = 0x0102
	TypeMulti    PropType = 0x1000 // flag: multi-valued

	TypeMultiInt16   = TypeMulti | TypeInt16
	TypeMultiInt32   = TypeMulti | TypeInt32
	TypeMultiFloat64 = TypeMulti | TypeFloat64
	TypeMultiInt64   = TypeMulti | TypeInt64
	TypeMultiString8 = TypeMulti | TypeString8
	TypeMultiString  = TypeMulti | TypeString
	TypeMultiTime    = TypeMulti | TypeTime
	TypeMultiGUID    = TypeMulti | TypeGUID
	TypeMultiBinary  = TypeMulti | TypeBinary
)

// GUID is a Windows GUID in its canonical textual byte order
// (Data1..Data3 big-endian as printed). Use GUIDFromBytes for the
// little-endian on-disk form.
type GUID [16]byte

// GUIDFromBytes converts the 16-byte on-disk (little-endian Data1..Data3)
// form into a GUID.
func GUIDFromBytes(b []byte) GUID {
	var g GUID
	if len(b) < 16 {
		return g
	}
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:16])
	return g
}

// Bytes returns the on-disk (little-endian Data1..Data3) form.
func (g GUID) Bytes() []byte {
	b := make([]byte, 16)
	b[0], b[1], b[2], b[3] = g[3], g[2], g[1], g[0]
	b[4], b[5] = g[5], g[4]
	b[6], b[7] = g[7], g[6]
	copy(b[8:], g[8:])
	return b
}

func (g GUID) String() string {
	return fmt.Sprintf("%08X-%04X-%04X-%04X-%012X",
		binary.BigEndian.Uint32(g[0:4]), binary.BigEndian.Uint16(g[4:6]),
		binary.BigEndian.Uint16(g[6:8]), g[8:10], g[10:16])
}

// MustGUID parses "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX"; it panics on a
// malformed literal and is meant for package-level constants.
func MustGUID(s string) GUID {
	var g GUID
	var d1 uint32
	var d2, d3, d4 uint16
	var d5 uint64
	if _, err := fmt.Sscanf(s, "%08X-%04X-%04X-%04X-%012X", &d1, &d2, &d3, &d4, &d5); err != nil {
		panic("pst: bad GUID literal " + s)
	}
	binary.BigEndian.PutUint32(g[0:4], d1)
	binary.BigEndian.PutUint16(g[4:6], d2)
	binary.BigEndian.PutUint16(g[6:8], d3)
	binary.BigEndian.PutUint16(g[8:10], d4)
	for i := 0; i < 6; i++ {
		g[15-i] = byte(d5 >> (8 * i))
	}
	return g
}

// Well-known property sets ([MS-OXPROPS] 1.3.2).
var (
	PSMAPI             = MustGUID("00020328-0000-0000-C000-000000000046")
	PSPublicStrings    = MustGUID("00020329-0000-0000-C000-000000000046")
	PSInternetHeaders  = MustGUID("00020386-0000-0000-C000-000000000046")
	PSETIDAppointment  = MustGUID("00062002-0000-0000-C000-000000000046")
	PSETIDTask         = MustGUID("00062003-0000-0000-C000-000000000046")
	PSETIDAddress      = MustGUID("00062004-0000-0000-C000-000000000046")
	PSETIDCommon       = MustGUID("00062008-0000-0000-C000-000000000046")
	PSETIDLog          = MustGUID("0006200A-0000-0000-C000-000000000046")
	PSETIDNote         = MustGUID("0006200E-0000-0000-C000-000000000046")
	PSETIDMeeting      = MustGUID("6ED8DA90-450B-101B-98DA-00AA003F1305")
	PSETIDSharing      = MustGUID("00062040-0000-0000-C000-000000000046")
	PSETIDPostRss      = MustGUID("00062041-0000-0000-C000-000000000046")
	PSETIDUnifiedMsg   = MustGUID("4442858E-A9E3-4E80-B900-317A210CC15B")
	PSETIDAirSync      = MustGUID("71035549-0739-4DCB-9163-00F0580DBBDF")
	PSETIDCalendarAsst = MustGUID("11000E07-B51B-40D6-AF21-CAA85EDAB1D0")
)

// Property is one decoded MAPI property.
//
// Value holds, by Type: int16, int32, int64 (also Currency), float32,
// float64 (also AppTime), bool, string (String and String8, already
// decoded to UTF-8), time.Time (UTC), []byte (Binary, Object, ServerID),
// GUID, uint32 (Error), and for multi-valued types []int16, []int32,
// []int64, []float64, []string, []time.Time, []GUID, [][]byte.
type Property struct {
	ID   uint16
	Type PropType
	// A property read from a message is decoded when first asked for
	// (most are never used): until then Value holds a rawValue, the
	// start of its bytes, and rawLen their number. (A slice in Value
	// would cost an allocation per property, a slice beside it 24 bytes.)
	rawLen uint32
	Value  any
}

// rawValue points to the bytes of a value not decoded yet.
type rawValue *byte

func lazyProperty(id uint16, typ PropType, b []byte) Property {
	return Property{ID: id, Type: typ, rawLen: uint32(len(b)), Value: rawValue(unsafe.SliceData(b))}
}

// NamedKey identifies a named property: a property set and either a
// numeric long id (LID) or a string name.
type NamedKey struct {
	Set  GUID
	LID  uint32
	Name string // non-empty for string-named properties
}

// Namer resolves named properties to property ids (0x8000..0xFFFE) for one
// file. Props consults it for the Named* getters.
type Namer interface {
	// PropID returns the property id for k, or false when the file has no
	// such named property.
	PropID(k NamedKey) (uint16, bool)
}

// Props is the property bag of one object (message, folder, recipient row,
// attachment). The zero value is an empty bag. It is not safe for
// concurrent use: the values of a message's properties are decoded when
// first read.
type Props struct {
	list  []Property // sorted by ID, unique IDs
	namer Namer
	// CodePage is the code page used to decode String8 values of this
	// object (PidTagMessageCodepage / PidTagInternetCodepage, or the
	// file default). Informational: values are decoded already.
	CodePage int
}

// NewProps makes a bag from ps; namer may be nil. Tests use it to build
// synthetic objects.
func NewProps(namer Namer, ps ...Property) *Props {
	p := &Props{list: make([]Property, 0, len(ps)), namer: namer}
	for _, x := range ps {
		p.Set(x)
	}
	return p
}

// find returns the index of id in the list, or where it would go.
func (p *Props) find(id uint16) (int, bool) {
	lo, hi := 0, len(p.list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.list[m].ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(p.list) && p.list[lo].ID == id
}

// Set stores x, replacing any property with the same id.
func (p *Props) Set(x Property) {
	i, ok := p.find(x.ID)
	if ok {
		p.list[i] = x
		return
	}
	p.list = slices.Insert(p.list, i, x)
}

// Len returns the number of properties.
func (p *Props) Len() int {
	if p == nil {
		return 0
	}
	return len(p.list)
}

// All returns every property sorted by id.
func (p *Props) All() []Property {
	if p == nil {
		return nil
	}
	for i := 0; i < len(p.list); {
		if p.decode(i) {
			i++
		}
	}
	return slices.Clone(p.list)
}

// Get returns the property with id.
func (p *Props) Get(id uint16) (Property, bool) {
	if p == nil || id == 0 {
		return Property{}, false
	}
	if i, ok := p.find(id); ok && p.decode(i) {
		return p.list[i], true
	}
	return Property{}, false
}

// decode decodes property i if it is still raw. A malformed value is
// dropped (the object survives without it) and decode reports false.
func (p *Props) decode(i int) bool {
	x := &p.list[i]
	r, lazy := x.Value.(rawValue)
	if !lazy {
		return true
	}
	v, err := decodeValue(x.Type, unsafe.Slice((*byte)(r), x.rawLen), p.CodePage)
	if err != nil {
		p.list = slices.Delete(p.list, i, i+1)
		return false
	}
	if x.ID == TagSubject {
		v = stripSubjectPrefix(v)
	}
	x.Value, x.rawLen = v, 0
	return true
}

// Has reports whether the property id is present.
func (p *Props) Has(id uint16) bool {
	_, ok := p.Get(id)
	return ok
}

// String returns a string property (String or String8), or "".
func (p *Props) String(id uint16) string {
	x, _ := p.Get(id)
	s, _ := x.Value.(string)
	return s
}

// Int returns an integer property (Int16, Int32, Int64, Currency, Error)
// widened to int64.
func (p *Props) Int(id uint16) (int64, bool) {
	x, ok := p.Get(id)
	if !ok {
		return 0, false
	}
	switch v := x.Value.(type) {
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint32:
		return int64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Bool returns a boolean property; integers are true when non-zero.
func (p *Props) Bool(id uint16) (bool, bool) {
	x, ok := p.Get(id)
	if !ok {
		return false, false
	}
	if b, ok := x.Value.(bool); ok {
		return b, true
	}
	n, ok := p.Int(id)
	return n != 0, ok
}

// Float returns a floating point property.
func (p *Props) Float(id uint16) (float64, bool) {
	x, ok := p.Get(id)
	if !ok {
		return 0, false
	}
	switch v := x.Value.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// Time returns a PtypTime property in UTC.
func (p *Props) Time(id uint16) (time.Time, bool) {
	x, ok := p.Get(id)
	if !ok {
		return time.Time{}, false
	}
	t, ok := x.Value.(time.Time)
	return t, ok
}

// Binary returns a binary property, or nil.
func (p *Props) Binary(id uint16) []byte {
	x, _ := p.Get(id)
	b, _ := x.Value.([]byte)
	return b
}

// Strings returns a multi-valued string property, or nil.
func (p *Props) Strings(id uint16) []string {
	x, _ := p.Get(id)
	switch v := x.Value.(type) {
	case []string:
		return v
	case string:
		if v != "" {
			return []string{v}
		}
	}
	return nil
}

// Binaries returns a multi-valued binary property, or nil.
func (p *Props) Binaries(id uint16) [][]byte {
	x, _ := p.Get(id)
	b, _ := x.Value.([][]byte)
	return b
}

// Ints returns a multi-valued integer property, or nil.
func (p *Props) Ints(id uint16) []int64 {
	x, _ := p.Get(id)
	switch v := x.Value.(type) {
	case []int16:
		out := make([]int64, len(v))
		for i, n := range v {
			out[i] = int64(n)
		}
		return out
	case []int32:
		out := make([]int64, len(v))
		for i, n := range v {
			out[i] = int64(n)
		}
		return out
	case []int64:
		return v
	}
	return nil
}

// NamedID resolves a named property by numeric LID. It returns 0 when the
// file does not define it (all getters return zero values for id 0).
func (p *Props) NamedID(set GUID, lid uint32) uint16 {
	if p == nil || p.namer == nil {
		return 0
	}
	id, _ := p.namer.PropID(NamedKey{Set: set, LID: lid})
	return id
}

// NamedStrID resolves a string-named property.
func (p *Props) NamedStrID(set GUID, name string) uint16 {
	if p == nil || p.namer == nil {
		return 0
	}
	id, _ := p.namer.PropID(NamedKey{Set: set, Name: name})
	return id
}

// Namer returns the resolver this bag uses (possibly nil).
func (p *Props) Namer() Namer {
	if p == nil {
		return nil
	}
	return p.namer
}

// MapNamer is a Namer backed by a map; tests use it with NewProps.
type MapNamer map[NamedKey]uint16

// PropID implements Namer.
func (m MapNamer) PropID(k NamedKey) (uint16, bool) {
	id, ok := m[k]
	return id, ok
}
