// Package rtf handles the RTF message bodies found in PST files: it
// decompresses PidTagRtfCompressed ([MS-OXRTFCP]), de-encapsulates HTML from
// RTF written with \fromhtml1 ([MS-OXRTFEX]) and extracts plain text from RTF.
//
// All functions accept untrusted input: they never panic and their memory use
// is bounded by a small multiple of the input size.
package rtf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Compression types of the COMPTYPE header field.
const (
	compTypeLZFu = 0x75465A4C // "LZFu": compressed
	compTypeMELA = 0x414C454D // "MELA": stored uncompressed
)

const (
	headerSize = 16
	dictSize   = 4096
	dictMask   = dictSize - 1

	// MaxRawSize is the largest RAWSIZE Decompress accepts. Larger values are
	// rejected with ErrTooLarge before anything is allocated.
	MaxRawSize = 64 << 20
)

// initialDict is the string [MS-OXRTFCP] pre-loads into the dictionary. The
// write position starts right after it (offset 207).
const initialDict = "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}" +
	"{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArial" +
	"Times New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par " +
	"\\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"

// Errors returned (wrapped) by Decompress. Test with errors.Is.
var (
	// ErrFormat reports a malformed or truncated compressed-RTF stream.
	ErrFormat = errors.New("malformed compressed RTF")
	// ErrUnsupported reports an unknown COMPTYPE.
	ErrUnsupported = errors.New("unsupported compressed RTF type")
	// ErrChecksum reports that the CRC field does not match the content.
	ErrChecksum = errors.New("compressed RTF CRC mismatch")
	// ErrTooLarge reports a RAWSIZE above MaxRawSize.
	ErrTooLarge = errors.New("compressed RTF too large")
)

// crc computes the [MS-OXRTFCP] CRC: the usual CRC-32 table (polynomial
// 0xEDB88320) but starting from 0 and without the final inversion.
func crc(b []byte) uint32 {
	// crc32.Update inverts on entry and exit; undo both.
	return ^crc32.Update(^uint32(0), crc32.IEEETable, b)
}

// Decompress decodes a PidTagRtfCompressed value ([MS-OXRTFCP]) and returns
// the raw RTF bytes.
//
// Both the "LZFu" (compressed) and "MELA" (uncompressed) forms are handled.
// For LZFu the CRC is verified unless the stored CRC is zero, which some
// writers emit. Bytes past COMPSIZE are ignored; output past RAWSIZE is cut.
//
// On error the returned slice holds whatever could be decoded (possibly nil),
// so callers that prefer a best-effort body may still use it; e.g. on
// ErrChecksum the whole stream has been decoded.
func Decompress(b []byte) ([]byte, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("rtf: decompress: header needs %d bytes, have %d: %w", headerSize, len(b), ErrFormat)
	}
	compSize := binary.LittleEndian.Uint32(b[0:])
	rawSize := binary.LittleEndian.Uint32(b[4:])
	compType := binary.LittleEndian.Uint32(b[8:])
	wantCRC := binary.LittleEndian.Uint32(b[12:])

	if compType != compTypeLZFu && compType != compTypeMELA {
		return nil, fmt.Errorf("rtf: decompress: COMPTYPE 0x%08X: %w", compType, ErrUnsupported)
	}
	if rawSize > MaxRawSize {
		return nil, fmt.Errorf("rtf: decompress: RAWSIZE %d exceeds %d: %w", rawSize, MaxRawSize, ErrTooLarge)
	}
	if compSize < headerSize-4 {
		return nil, fmt.Errorf("rtf: decompress: COMPSIZE %d below minimum %d: %w", compSize, headerSize-4, ErrFormat)
	}
	avail := uint64(len(b) - headerSize)
	contentLen := uint64(compSize) - (headerSize - 4)
	if contentLen > avail {
		return nil, fmt.Errorf("rtf: decompress: COMPSIZE %d needs %d content bytes, have %d: %w",
			compSize, contentLen, avail, ErrFormat)
	}
	content := b[headerSize : headerSize+int(contentLen)]

	if compType == compTypeMELA {
		// The CRC of an uncompressed stream must be zero, but writers differ
		// (some fill it in), so it is not checked.
		n := min(int(rawSize), len(content))
		out := append([]byte(nil), content[:n]...)
		if n < int(rawSize) {
			return out, fmt.Errorf("rtf: decompress: uncompressed content has %d bytes, RAWSIZE %d: %w", n, rawSize, ErrFormat)
		}
		return out, nil
	}

	out, err := lzfu(content, int(rawSize))
	if err != nil {
		return out, fmt.Errorf("rtf: decompress: %w", err)
	}
	if wantCRC != 0 {
		if got := crc(content); got != wantCRC {
			return out, fmt.Errorf("rtf: decompress: CRC 0x%08X, header says 0x%08X: %w", got, wantCRC, ErrChecksum)
		}
	}
	return out, nil
}

// lzfu decodes the COMPRESSEDDATA of an LZFu stream into at most rawSize
// bytes.
func lzfu(in []byte, rawSize int) ([]byte, error) {
	var dict [dictSize]byte
	copy(dict[:], initialDict)
	wp := len(initialDict)

	// Every input byte yields at most 8.5 output bytes (a control byte and
	// eight 2-byte references of 17 bytes each), so this never over-allocates
	// for a lying RAWSIZE.
	out := make([]byte, 0, min(rawSize, 9*len(in)+16))

	i := 0
	for i < len(in) {
		ctrl := in[i]
		i++
		for bit := 0; bit < 8; bit++ {
			if i >= len(in) {
				// Input ran out inside a run; accept if the size adds up.
				if len(out) == rawSize {
					return out, nil
				}
				return out, fmt.Errorf("input ends without end marker after %d of %d bytes: %w", len(out), rawSize, ErrFormat)
			}
			if ctrl&(1<<bit) == 0 {
				c := in[i]
				i++
				out = append(out, c)
				dict[wp] = c
				wp = (wp + 1) & dictMask
			} else {
				if i+1 >= len(in) {
					return out, fmt.Errorf("truncated dictionary reference at input offset %d: %w", i, ErrFormat)
				}
				ref := int(in[i])<<8 | int(in[i+1])
				i += 2
				off := ref >> 4
				n := ref&0xF + 2
				if off == wp {
					// End marker.
					if len(out) != rawSize {
						return out, fmt.Errorf("end marker after %d bytes, RAWSIZE %d: %w", len(out), rawSize, ErrFormat)
					}
					return out, nil
				}
				for k := 0; k < n; k++ {
					c := dict[(off+k)&dictMask]
					out = append(out, c)
					dict[wp] = c
					wp = (wp + 1) & dictMask
				}
			}
			if len(out) >= rawSize {
				if len(out) > rawSize {
					out = out[:rawSize]
				}
				// Everything promised has been produced. Well-formed streams
				// now carry only the end marker; ignore whatever follows.
				return out, nil
			}
		}
	}
	if len(out) == rawSize {
		return out, nil
	}
	return out, fmt.Errorf("input ends after %d of %d bytes: %w", len(out), rawSize, ErrFormat)
}
