package cal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
	"github.com/pstsync/pstsync/sink"
)

// The tests of this file expand our iCalendar output with real clients,
// independently of rrule-go: ical.js (scripts/js/expand.js) and khal.
// scripts/test installs both; without them the tests skip, under CI=true
// they fail.

// icaljsExpand runs scripts/js/expand.js over files through the date last
// and returns the occurrences per file.
func icaljsExpand(t *testing.T, last time.Time, files ...string) map[string][]occ {
	t.Helper()
	node, js := testutil.NeedICALJS(t)
	args := append([]string{filepath.Join(js, "expand.js"), "--until", last.Format("2006-01-02")}, files...)
	cmd := exec.Command(node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("expand.js: %v\n%s", err, stderr.String())
	}
	occs := map[string][]occ{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			File       string `json:"file"`
			Summary    string `json:"summary"`
			LocalStart string `json:"local_start"`
			LocalEnd   string `json:"local_end"`
			Modified   bool   `json:"modified"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("expand.js output %q: %v", sc.Text(), err)
		}
		occs[l.File] = append(occs[l.File], occ{l.LocalStart, l.LocalEnd, l.Summary, l.Modified})
	}
	return occs
}

// khalList lists the events of the .ics files with khal (one calendar per
// file) from first through last, with TZ and khal's local zone pinned to
// zone, and returns the occurrences per file. khal does not show whether
// an occurrence is modified: Modified is always false.
func khalList(t *testing.T, zone string, first, last time.Time, files ...string) map[string][]occ {
	t.Helper()
	khal := testutil.NeedTool(t, "khal")
	tmp := t.TempDir()
	var conf strings.Builder
	conf.WriteString("[calendars]\n")
	for i, file := range files {
		vdir := filepath.Join(tmp, fmt.Sprintf("c%d", i))
		if err := os.MkdirAll(vdir, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vdir, "event.ics"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "[[c%d]]\npath = %s\ntype = calendar\n", i, vdir)
	}
	fmt.Fprintf(&conf, "[default]\ndefault_calendar = c0\n[sqlite]\npath = %s\n"+
		"[locale]\nlocal_timezone = %s\ndefault_timezone = %s\ntimeformat = %%H:%%M\ndateformat = %%Y-%%m-%%d\n"+
		"longdateformat = %%Y-%%m-%%d\ndatetimeformat = %%Y-%%m-%%d %%H:%%M\nlongdatetimeformat = %%Y-%%m-%%d %%H:%%M\n",
		filepath.Join(tmp, "khal.db"), zone, zone)
	cfg := filepath.Join(tmp, "config")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(khal, "-c", cfg, "list", "--format", "{calendar}|{start}|{end}|{title}", "--day-format", "",
		first.Format("2006-01-02"), last.AddDate(0, 0, 1).Format("2006-01-02"))
	cmd.Env = append(os.Environ(), "TZ="+zone, "HOME="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("khal list: %v\n%s", err, stderr.String())
	}
	occs := map[string][]occ{}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "|", 4)
		var i int
		if len(f) != 4 || len(f[1]) < 10 {
			t.Fatalf("khal line %q", line)
		}
		if _, err := fmt.Sscanf(f[0], "c%d", &i); err != nil || i >= len(files) {
			t.Fatalf("khal line %q: calendar", line)
		}
		if f[1][:10] > last.Format("2006-01-02") {
			continue
		}
		occs[files[i]] = append(occs[files[i]], occ{Start: f[1], End: f[2], Summary: f[3]})
	}
	return occs
}

// upTo keeps the occurrences starting on or before the date last.
func upTo(os []occ, last time.Time) []occ {
	var out []occ
	for _, o := range os {
		if o.Start[:10] <= last.Format("2006-01-02") {
			out = append(out, o)
		}
	}
	return out
}

func withoutModified(os []occ) []occ {
	out := make([]occ, len(os))
	for i, o := range os {
		o.Modified = false
		out[i] = o
	}
	return out
}

func writeSeries(t *testing.T, tc seriesCase, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := sink.EncodeICS(&buf, findSeries(t, tc.sample, tc.nid)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, tc.name+".ics")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestICALJSExpandsSampleSeries compares ical.js's expansion of the sample
// series with the literal tables of expand_samples_test.go.
func TestICALJSExpandsSampleSeries(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range seriesCases {
		t.Run(tc.name, func(t *testing.T) {
			file := writeSeries(t, tc, dir)
			got := icaljsExpand(t, tc.last, file)[file]
			if d := diffOccs(got, tc.want); d != "" {
				t.Errorf("ical.js expansion differs:\n%s", d)
			}
			checkAbsent(t, got, tc.absent)
		})
	}
}

// TestKhalListsSampleSeries does the same with khal, TZ pinned to the
// series' zone.
func TestKhalListsSampleSeries(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range seriesCases {
		t.Run(tc.name, func(t *testing.T) {
			file := writeSeries(t, tc, dir)
			got := khalList(t, tc.zone, tc.want[0].startDate().AddDate(0, 0, -7), tc.last, file)[file]
			if d := diffOccs(got, withoutModified(tc.want)); d != "" {
				t.Errorf("khal listing differs:\n%s", d)
			}
			checkAbsent(t, got, tc.absent)
		})
	}
}

// TestClientsAgreeOnEverySampleSeries expands every recurring appointment
// of every sample with rrule-go, ical.js and khal and requires the same
// occurrences from all three.
func TestClientsAgreeOnEverySampleSeries(t *testing.T) {
	series := sampleSeriesFiles(t, t.TempDir())
	byZone := map[string][]string{}
	var all []string
	first, last := date(9999, 1, 1), date(1, 1, 1)
	for file, sf := range series {
		byZone[sf.zone] = append(byZone[sf.zone], file)
		all = append(all, file)
		if len(sf.occs) > 0 && sf.occs[0].startDate().Before(first) {
			first = sf.occs[0].startDate()
		}
		if sf.last.After(last) {
			last = sf.last
		}
	}
	js := icaljsExpand(t, last, all...)
	kh := map[string][]occ{}
	for zone, files := range byZone {
		for f, o := range khalList(t, zone, first.AddDate(0, 0, -7), last, files...) {
			kh[f] = o
		}
	}
	for file, sf := range series {
		if d := diffOccs(upTo(js[file], sf.last), sf.occs); d != "" {
			t.Errorf("%s: ical.js and rrule-go differ:\n%s", filepath.Base(file), d)
		}
		if d := diffOccs(upTo(kh[file], sf.last), withoutModified(sf.occs)); d != "" {
			t.Errorf("%s: khal and rrule-go differ:\n%s", filepath.Base(file), d)
		}
	}
}
