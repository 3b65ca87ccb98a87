package sink

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-vcard"
)

// OutlookCSVColumns is the header of Outlook's "Comma Separated Values"
// contact export, which its Import/Export wizard maps onto contact fields
// without asking (English Outlook; other languages translate the names,
// and the wizard then offers "Map Custom Fields"). EncodeOutlookCSV fills
// the columns pstsync has values for and leaves the others empty.
var OutlookCSVColumns = []string{
	"Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department", "Job Title",
	"Business Street", "Business Street 2", "Business Street 3", "Business City", "Business State",
	"Business Postal Code", "Business Country/Region",
	"Home Street", "Home Street 2", "Home Street 3", "Home City", "Home State", "Home Postal Code", "Home Country/Region",
	"Other Street", "Other Street 2", "Other Street 3", "Other City", "Other State", "Other Postal Code", "Other Country/Region",
	"Assistant's Phone", "Business Fax", "Business Phone", "Business Phone 2", "Callback", "Car Phone",
	"Company Main Phone", "Home Fax", "Home Phone", "Home Phone 2", "ISDN", "Mobile Phone", "Other Fax",
	"Other Phone", "Pager", "Primary Phone", "Radio Phone", "TTY/TDD Phone", "Telex",
	"Account", "Anniversary", "Assistant's Name", "Billing Information", "Birthday", "Business Address PO Box",
	"Categories", "Children", "Directory Server",
	"E-mail Address", "E-mail Type", "E-mail Display Name",
	"E-mail 2 Address", "E-mail 2 Type", "E-mail 2 Display Name",
	"E-mail 3 Address", "E-mail 3 Type", "E-mail 3 Display Name",
	"Gender", "Government ID Number", "Hobby", "Home Address PO Box", "Initials", "Internet Free Busy",
	"Keywords", "Language", "Location", "Manager's Name", "Mileage", "Notes", "Office Location",
	"Organizational ID Number", "Other Address PO Box", "Priority", "Private", "Profession", "Referred By",
	"Sensitivity", "Spouse", "User 1", "User 2", "User 3", "User 4", "Web Page",
}

// EncodeOutlookCSV writes cards as one Outlook contact CSV: UTF-8 with a
// byte order mark (so Outlook does not read it in the ANSI code page),
// CRLF line ends, every field quoted as Outlook writes them, dates as
// M/D/YYYY (the wizard's en-US form), multi-line notes kept in one quoted
// field. Distribution lists (KIND:group) are skipped: Outlook's CSV has no
// members.
func EncodeOutlookCSV(w io.Writer, cards []vcard.Card) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("sink: outlook csv: %w", err)
	}
	col := map[string]int{}
	for i, c := range OutlookCSVColumns {
		col[c] = i
	}
	rows := [][]string{OutlookCSVColumns}
	for _, c := range cards {
		if strings.EqualFold(c.Value(vcard.FieldKind), "group") || c.Value("X-ADDRESSBOOKSERVER-KIND") == "group" {
			continue
		}
		row := make([]string, len(OutlookCSVColumns))
		set := func(name, v string) {
			if v != "" && row[col[name]] == "" {
				row[col[name]] = v
			}
		}
		if n := splitUnescaped(c.Value(vcard.FieldName), ';'); len(n) > 0 {
			n = append(n, "", "", "", "", "")
			set("Last Name", n[0])
			set("First Name", n[1])
			set("Middle Name", n[2])
			set("Title", n[3])
			set("Suffix", n[4])
		}
		if row[col["First Name"]]+row[col["Last Name"]] == "" {
			set("Last Name", c.Value(vcard.FieldFormattedName)) // Outlook needs a name
		}
		if org := splitUnescaped(c.Value(vcard.FieldOrganization), ';'); len(org) > 0 {
			set("Company", org[0])
			if len(org) > 1 {
				set("Department", org[1])
			}
		}
		set("Job Title", c.Value(vcard.FieldTitle))
		for _, a := range c.Addresses() {
			prefix := "Other"
			switch {
			case a.Params.HasType(vcard.TypeWork):
				prefix = "Business"
			case a.Params.HasType(vcard.TypeHome):
				prefix = "Home"
			}
			street := strings.Split(a.StreetAddress, "\n")
			for i, s := range street {
				if i < 3 {
					name := prefix + " Street"
					if i > 0 {
						name += fmt.Sprintf(" %d", i+1)
					}
					set(name, s)
				}
			}
			set(prefix+" City", a.Locality)
			set(prefix+" State", a.Region)
			set(prefix+" Postal Code", a.PostalCode)
			set(prefix+" Country/Region", a.Country)
			set(prefix+" Address PO Box", a.PostOfficeBox)
		}
		for _, t := range c[vcard.FieldTelephone] {
			set(csvPhoneColumn(t, row, col), t.Value)
		}
		for i, e := range c[vcard.FieldEmail] {
			if i >= 3 {
				break
			}
			p := "E-mail"
			if i > 0 {
				p = fmt.Sprintf("E-mail %d", i+1)
			}
			set(p+" Address", e.Value)
			set(p+" Type", "SMTP")
			set(p+" Display Name", c.Value(vcard.FieldFormattedName)+" ("+e.Value+")")
		}
		set("Birthday", csvDate(c.Value(vcard.FieldBirthday)))
		set("Anniversary", csvDate(c.Value(vcard.FieldAnniversary)))
		// Outlook separates categories with ';' in its CSV.
		set("Categories", strings.Join(splitUnescaped(c.Value(vcard.FieldCategories), ','), ";"))
		// Line breaks as LF: the CSV writer turns them into CRLF.
		set("Notes", strings.ReplaceAll(c.Value(vcard.FieldNote), "\r\n", "\n"))
		set("Web Page", c.Value(vcard.FieldURL))
		switch g, _ := c.Gender(); {
		case g == vcard.SexFemale:
			set("Gender", "Female")
		case g == vcard.SexMale:
			set("Gender", "Male")
		default:
			set("Gender", "Unspecified")
		}
		set("Priority", "Normal")
		set("Private", "False")
		set("Sensitivity", "Normal")
		rows = append(rows, row)
	}
	// Outlook quotes every field; encoding/csv quotes only where needed,
	// which Outlook reads the same.
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("sink: outlook csv: %w", err)
	}
	return nil
}

// csvPhoneColumn picks the first free telephone column for a TEL.
func csvPhoneColumn(f *vcard.Field, row []string, col map[string]int) string {
	types := map[string]bool{}
	for _, t := range f.Params.Types() {
		types[strings.ToLower(t)] = true
	}
	var cands []string
	switch {
	case types["fax"] && types["home"]:
		cands = []string{"Home Fax"}
	case types["fax"] && types["work"]:
		cands = []string{"Business Fax"}
	case types["fax"]:
		cands = []string{"Other Fax"}
	case types["cell"]:
		cands = []string{"Mobile Phone"}
	case types["pager"]:
		cands = []string{"Pager"}
	case types["x-car"]:
		cands = []string{"Car Phone"}
	case types["x-assistant"]:
		cands = []string{"Assistant's Phone"}
	case types["x-callback"]:
		cands = []string{"Callback"}
	case types["x-company-main"]:
		cands = []string{"Company Main Phone"}
	case types["x-isdn"]:
		cands = []string{"ISDN"}
	case types["x-radio"]:
		cands = []string{"Radio Phone"}
	case types["x-telex"]:
		cands = []string{"Telex"}
	case types["textphone"]:
		cands = []string{"TTY/TDD Phone"}
	case types["work"]:
		cands = []string{"Business Phone", "Business Phone 2"}
	case types["home"]:
		cands = []string{"Home Phone", "Home Phone 2"}
	case f.Params.Get(vcard.ParamPreferred) == "1":
		cands = []string{"Primary Phone"}
	}
	for _, c := range append(cands, "Other Phone") {
		if row[col[c]] == "" {
			return c
		}
	}
	return "Other Phone"
}

// csvDate formats a vCard date (YYYYMMDD, YYYY-MM-DD) as M/D/YYYY; dates
// without a year (--MMDD) and other forms are left out.
func csvDate(v string) string {
	d := strings.ReplaceAll(v, "-", "")
	if len(d) < 8 {
		return ""
	}
	t, err := time.Parse("20060102", d[:8])
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d/%d/%d", t.Month(), t.Day(), t.Year())
}
