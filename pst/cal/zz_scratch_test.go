package cal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-ical"
	"github.com/pstsync/pstsync/pst"
)

func TestScratchDump(t *testing.T) {
	path := os.Getenv("SCRATCH_PST")
	if path == "" {
		t.Skip()
	}
	f, err := pst.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = f.Walk(context.Background(), func(fo *pst.Folder) error {
		refs, err := fo.Items()
		if err != nil {
			return nil
		}
		for _, r := range refs {
			m, err := f.Message(r.NID)
			if err != nil {
				fmt.Println("ERR", err)
				continue
			}
			c := m.Class()
			var cal *ical.Calendar
			switch {
			case IsEvent(c):
				cal, err = Event(m, Options{})
			case IsTodo(c):
				cal, err = Todo(m, Options{})
			case IsJournal(c):
				cal, err = Journal(m, Options{})
			case IsNote(c):
				fmt.Printf("=== %s %s\n%s", fo.PathString(), c, NoteText(m))
				continue
			default:
				if os.Getenv("SCRATCH_CLASSES") != "" {
					fmt.Println("=== other", fo.PathString(), c)
				}
				continue
			}
			fmt.Printf("=== %s %s nid=%#x\n", fo.PathString(), c, r.NID)
			if os.Getenv("SCRATCH_RAW") != "" {
				p := m.Props
				for _, l := range []uint32{lidAppointmentRecur, lidAppointmentTZDefStartDisply, lidAppointmentTZDefRecur, lidTimeZoneStruct} {
					fmt.Printf("  %#x: %x\n", l, p.Binary(id(p, appt(l))))
				}
			}
			if err != nil {
				fmt.Println("CONVERR", err)
				continue
			}
			var buf bytes.Buffer
			if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
				fmt.Println("ENCERR", err)
			}
			fmt.Print(strings.ReplaceAll(buf.String(), "\r\n", "\n"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScratchProps(t *testing.T) {
	path := os.Getenv("SCRATCH_PST")
	nid := os.Getenv("SCRATCH_NID")
	if path == "" || nid == "" {
		t.Skip()
	}
	f, err := pst.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var n uint32
	fmt.Sscanf(nid, "0x%x", &n)
	m, err := f.Message(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range m.Props.All() {
		k, _ := f.NamedKeyOf(x.ID)
		v := fmt.Sprintf("%v", x.Value)
		if len(v) > 200 {
			v = v[:200]
		}
		fmt.Printf("%#04x %#04x %v/%#x%s = %s\n", x.ID, uint16(x.Type), k.Set, k.LID, k.Name, v)
	}
	for _, r := range m.Recipients {
		fmt.Println("--- recipient")
		for _, x := range r.All() {
			fmt.Printf("%#04x %#04x = %v\n", x.ID, uint16(x.Type), x.Value)
		}
	}
}
