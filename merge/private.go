package merge

import "strings"

// PrivateTitle is the summary every private appointment is shared with.
const PrivateTitle = "Private appointment"

// busyKeys are the calendar properties a private item is shared with: when
// it is, how it repeats, and whether it blocks time.
var busyKeys = map[string]bool{
	"DTSTART": true, "DTEND": true, "DURATION": true, "DUE": true, "RRULE": true, "RDATE": true, "EXDATE": true,
	"RECURRENCE-ID": true, "TRANSP": true, "CLASS": true, "STATUS": true, "X-MICROSOFT-CDO-BUSYSTATUS": true,
}

// IsPrivate reports whether d is marked private or confidential (CLASS of
// an iCalendar item's master or of a vCard).
func IsPrivate(d *Doc) bool {
	if d == nil {
		return false
	}
	for k, f := range d.Fields {
		if p, _ := splitRID(k); p != "" || !strings.EqualFold(f.Name, "CLASS") {
			continue
		}
		if v := strings.ToUpper(strings.TrimSpace(f.Value)); v == "PRIVATE" || v == "CONFIDENTIAL" {
			return true
		}
	}
	return false
}

// Redact returns the busy time of a private calendar item: its times,
// recurrence, transparency and class, with the summary "Private
// appointment" (on the master and every override) and nothing else — no
// description, location, attendees, organizer, alarms, attachments,
// categories or X- properties. Other kinds are returned unchanged (private
// contacts are not shared at all; the caller leaves them out).
func Redact(d *Doc) *Doc {
	if d == nil || !d.Kind.IsCalendar() {
		return d
	}
	out := &Doc{UID: d.UID, Kind: d.Kind, Modified: d.Modified, Fields: map[string]Field{}}
	prefixes := map[string]bool{}
	for k, f := range d.Fields {
		prefix, rest := splitRID(k)
		name, _, _ := strings.Cut(rest, "=")
		if strings.HasPrefix(rest, calPrefix) || f.Comp || !busyKeys[name] {
			continue
		}
		prefixes[prefix] = true
		out.Fields[k] = f.clone()
	}
	for p := range prefixes {
		out.Fields[p+"SUMMARY"] = Field{Name: "SUMMARY", Value: PrivateTitle}
	}
	if len(d.Volatile) > 0 {
		out.Volatile = cloneFields(d.Volatile)
	}
	for id, z := range d.Zones {
		if out.Zones == nil {
			out.Zones = map[string]string{}
		}
		out.Zones[id] = z
	}
	return out
}

// splitRID splits a field key into its override prefix ("RID=x/", "" for
// the master) and the rest.
func splitRID(k string) (prefix, rest string) {
	if !strings.HasPrefix(k, "RID=") {
		return "", k
	}
	i := strings.IndexByte(k, '/')
	if i < 0 {
		return "", k
	}
	return k[:i+1], k[i+1:]
}

// hasMaster reports whether a calendar doc has master fields (not only
// overrides of single occurrences).
func hasMasterFields(d *Doc) bool {
	for k := range d.Fields {
		if p, rest := splitRID(k); p == "" && !strings.HasPrefix(rest, calPrefix) {
			return true
		}
	}
	return false
}
