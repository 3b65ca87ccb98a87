package schedule

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func spec() Spec {
	return Spec{
		Name:        "pstsync sync (anna)",
		Exe:         `C:\Program Files\pstsync\pstsyncw.exe`,
		Args:        []string{"sync", "--config", `C:\Users\Anna Maria\AppData\Roaming\pstsync\pstsync.toml`},
		Every:       15 * time.Minute,
		UserID:      `OFFICE\anna`,
		Start:       time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		OKExitCodes: []int{5, 6, 9},
	}
}

func unixSpec() Spec {
	s := spec()
	s.Exe = "/usr/local/bin/pstsync"
	s.Args = []string{"sync", "--config", "/home/anna/.config/pstsync/pst sync.toml"}
	return s
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./schedule -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	x, err := TaskXML(spec())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "task.xml", x)
	c := spec()
	c.Exe = `C:\Program Files\pstsync\pstsync.exe`
	c.Console = true
	x, err = TaskXML(c)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "task-conhost.xml", x)

	svc, tmr, err := SystemdUnits(unixSpec())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "pstsync-sync-anna.service", []byte(svc))
	golden(t, "pstsync-sync-anna.timer", []byte(tmr))
	pl, err := LaunchdPlist(unixSpec())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "org.pstsync.pstsync-sync-anna.plist", []byte(pl))
	cr, err := CronLine(unixSpec())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "crontab", []byte(cr))
}

// node is a parsed XML element.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     string
}

func parse(t *testing.T, r io.Reader) *node {
	t.Helper()
	dec := xml.NewDecoder(r)
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if tk.Name.Space != TaskNamespace {
				t.Errorf("<%s> in namespace %q", tk.Name.Local, tk.Name.Space)
			}
			n := &node{name: tk.Name.Local, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				if a.Name.Space == "" && a.Name.Local != "xmlns" {
					n.attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += strings.TrimSpace(string(tk))
			}
		}
	}
	return root
}

// ctype is a complex type of the Task Scheduler schema, reduced to what we
// check: child element names, whether their order is fixed (xs:sequence)
// or free (xs:all, xs:choice), which are required, and the attributes.
// Names, order and requiredness are taken from Microsoft's "Task Scheduler
// Schema" reference (learn.microsoft.com/windows/win32/taskschd, pages
// taskType, registrationInfoType, triggerBaseType, timeTriggerType,
// logonTriggerType, repetitionType, principalType, settingsType,
// restartType, execType); the XSD itself is not copied here.
type ctype struct {
	ordered  bool
	children []string
	required []string
	attrs    []string
}

var triggerBase = []string{"Enabled", "StartBoundary", "EndBoundary", "Repetition", "ExecutionTimeLimit"}

var schema = map[string]ctype{
	"Task":             {children: []string{"RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions"}, required: []string{"Actions"}, attrs: []string{"version"}},
	"RegistrationInfo": {children: []string{"URI", "SecurityDescriptor", "Source", "Date", "Author", "Version", "Description", "Documentation"}},
	"Triggers":         {children: []string{"BootTrigger", "RegistrationTrigger", "IdleTrigger", "TimeTrigger", "EventTrigger", "LogonTrigger", "SessionStateChangeTrigger", "CalendarTrigger"}},
	"TimeTrigger":      {ordered: true, children: append(slices.Clone(triggerBase), "RandomDelay"), attrs: []string{"id"}},
	"LogonTrigger":     {ordered: true, children: append(slices.Clone(triggerBase), "UserId", "Delay"), attrs: []string{"id"}},
	"Repetition":       {children: []string{"Interval", "Duration", "StopAtDurationEnd"}, required: []string{"Interval"}},
	"Principals":       {children: []string{"Principal"}, required: []string{"Principal"}},
	"Principal":        {children: []string{"UserId", "LogonType", "GroupId", "DisplayName", "RunLevel", "ProcessTokenSidType", "RequiredPrivileges"}, attrs: []string{"id"}},
	"Settings": {children: []string{"AllowStartOnDemand", "RestartOnFailure", "MultipleInstancesPolicy", "DisallowStartIfOnBatteries",
		"StopIfGoingOnBatteries", "AllowHardTerminate", "StartWhenAvailable", "NetworkProfileName", "RunOnlyIfNetworkAvailable",
		"WakeToRun", "Enabled", "Hidden", "DeleteExpiredTaskAfter", "IdleSettings", "NetworkSettings", "ExecutionTimeLimit",
		"Priority", "RunOnlyIfIdle", "UseUnifiedSchedulingEngine", "DisallowStartOnRemoteAppSession"}},
	"RestartOnFailure": {children: []string{"Interval", "Count"}, required: []string{"Interval", "Count"}},
	"Actions":          {children: []string{"Exec", "ComHandler", "SendEmail", "ShowMessage"}, required: []string{"Exec"}, attrs: []string{"Context"}},
	"Exec":             {children: []string{"Command", "Arguments", "WorkingDirectory"}, required: []string{"Command"}},
}

// simple-type checks of the values we write
var (
	durationRE = regexp.MustCompile(`^P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$`)
	values     = map[string]func(string) bool{
		"LogonType":               oneOf("S4U", "Password", "InteractiveToken", "InteractiveTokenOrPassword", "ServiceAccount", "Group", "None"),
		"RunLevel":                oneOf("LeastPrivilege", "HighestAvailable"),
		"MultipleInstancesPolicy": oneOf("Parallel", "Queue", "IgnoreNew", "StopExisting"),
		"Enabled":                 isBool, "StopAtDurationEnd": isBool, "Hidden": isBool, "AllowStartOnDemand": isBool,
		"DisallowStartIfOnBatteries": isBool, "StopIfGoingOnBatteries": isBool, "AllowHardTerminate": isBool,
		"StartWhenAvailable": isBool, "RunOnlyIfNetworkAvailable": isBool, "WakeToRun": isBool, "RunOnlyIfIdle": isBool,
		"Interval": func(s string) bool {
			return durationRE.MatchString(s) && parseISO(s) >= time.Minute && parseISO(s) <= 31*24*time.Hour
		},
		"RandomDelay":        func(s string) bool { return durationRE.MatchString(s) },
		"Delay":              func(s string) bool { return durationRE.MatchString(s) },
		"ExecutionTimeLimit": func(s string) bool { return durationRE.MatchString(s) },
		"StartBoundary":      func(s string) bool { _, err := time.Parse("2006-01-02T15:04:05", s); return err == nil },
		"Priority":           func(s string) bool { var n int; _, err := fmt.Sscan(s, &n); return err == nil && n >= 0 && n <= 10 },
		"Count":              func(s string) bool { var n int; _, err := fmt.Sscan(s, &n); return err == nil && n >= 1 && n <= 255 },
		"Command":            func(s string) bool { return s != "" },
		"UserId":             func(s string) bool { return s != "" },
	}
)

func oneOf(vs ...string) func(string) bool {
	return func(s string) bool { return slices.Contains(vs, s) }
}
func isBool(s string) bool { return s == "true" || s == "false" }

func parseISO(s string) time.Duration {
	var d time.Duration
	num := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			num = num*10 + int(c-'0')
		case c == 'D':
			d += time.Duration(num) * 24 * time.Hour
			num = 0
		case c == 'H':
			d += time.Duration(num) * time.Hour
			num = 0
		case c == 'M':
			d += time.Duration(num) * time.Minute
			num = 0
		case c == 'S':
			d += time.Duration(num) * time.Second
			num = 0
		}
	}
	return d
}

func validate(t *testing.T, n *node, path string) {
	t.Helper()
	path += "/" + n.name
	ct, complexType := schema[n.name]
	if !complexType || len(n.children) == 0 && len(ct.children) == 0 {
		if len(n.children) > 0 {
			t.Errorf("%s: a simple element with children", path)
		}
		if check, ok := values[n.name]; ok && !check(n.text) {
			t.Errorf("%s: invalid value %q", path, n.text)
		}
		return
	}
	for a := range n.attrs {
		if !slices.Contains(ct.attrs, a) {
			t.Errorf("%s: attribute %s not in the schema", path, a)
		}
	}
	seen := map[string]bool{}
	last := -1
	for _, c := range n.children {
		i := slices.Index(ct.children, c.name)
		switch {
		case i < 0:
			t.Errorf("%s: <%s> is not a child the schema allows (%v)", path, c.name, ct.children)
		case seen[c.name] && n.name != "Triggers" && n.name != "Principals" && n.name != "Actions":
			t.Errorf("%s: <%s> twice", path, c.name)
		case ct.ordered && i < last:
			t.Errorf("%s: <%s> out of the schema's sequence order %v", path, c.name, ct.children)
		}
		seen[c.name] = true
		last = max(last, i)
		validate(t, c, path)
	}
	for _, r := range ct.required {
		if !seen[r] {
			t.Errorf("%s: required <%s> missing", path, r)
		}
	}
}

func TestTaskXMLMatchesSchema(t *testing.T) {
	for _, console := range []bool{false, true} {
		for _, every := range []time.Duration{time.Minute, 15 * time.Minute, 2 * time.Hour, 36 * time.Hour, 31 * 24 * time.Hour} {
			s := spec()
			s.Console, s.Every = console, every
			x, err := TaskXML(s)
			if err != nil {
				t.Fatal(err)
			}
			root := parse(t, bytes.NewReader(x))
			if root.name != "Task" {
				t.Fatalf("root <%s>", root.name)
			}
			validate(t, root, "")

			// round trip into the structs
			var back Task
			if err := xml.Unmarshal(x, &back); err != nil {
				t.Fatal(err)
			}
			want, _ := NewTask(s)
			back.XMLName, want.XMLName = xml.Name{}, xml.Name{}
			if !reflect.DeepEqual(&back, want) {
				t.Errorf("round trip differs:\n%+v\n%+v", back, *want)
			}
			if got := parseISO(back.Triggers.TimeTrigger.Repetition.Interval); got != every {
				t.Errorf("interval %s = %s, want %s", back.Triggers.TimeTrigger.Repetition.Interval, got, every)
			}
		}
	}
}

func TestTaskSettings(t *testing.T) {
	task, err := NewTask(spec())
	if err != nil {
		t.Fatal(err)
	}
	st := task.Settings
	if st.MultipleInstancesPolicy != "IgnoreNew" || st.RestartOnFailure.Count < 1 || !st.StartWhenAvailable || st.DisallowStartIfOnBatteries {
		t.Errorf("settings %+v", st)
	}
	if p := task.Principals.Principal; p.LogonType != "InteractiveToken" || p.UserID != `OFFICE\anna` || p.RunLevel != "LeastPrivilege" {
		t.Errorf("principal %+v", p)
	}
	if task.Actions.Exec.Command != spec().Exe {
		t.Errorf("GUI build not started directly: %+v", task.Actions.Exec)
	}
	c := spec()
	c.Console = true
	task, _ = NewTask(c)
	if task.Actions.Exec.Command != ConhostPath || !strings.HasPrefix(task.Actions.Exec.Arguments, `--headless "C:\Program Files\pstsync\pstsyncw.exe" sync`) {
		t.Errorf("console build not started through conhost --headless: %+v", task.Actions.Exec)
	}
}

func TestUTF16(t *testing.T) {
	b, err := TaskXMLUTF16(spec())
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0xFF || b[1] != 0xFE || len(b)%2 != 0 {
		t.Fatalf("no UTF-16LE BOM: % x", b[:4])
	}
	u := make([]uint16, len(b)/2-1)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2+2*i:])
	}
	text := string(utf16.Decode(u))
	if !strings.HasPrefix(text, `<?xml version="1.0" encoding="UTF-16"?>`+"\r\n") {
		t.Errorf("declaration: %q", text[:50])
	}
	x, _ := TaskXML(spec())
	if strings.ReplaceAll(strings.Replace(text, "UTF-16", "UTF-8", 1), "\r\n", "\n") != string(x) {
		t.Error("UTF-16 text differs from the UTF-8 XML")
	}
}

// splitWindows splits a command line like CommandLineToArgvW (the rules
// since 2008) for the quoting round trip.
func splitWindows(s string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
				} else {
					inQuote = !inQuote
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
				i--
			}
			have = true
		case c == '"':
			inQuote = !inQuote
			have = true
		case (c == ' ' || c == '\t') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

func TestWindowsQuote(t *testing.T) {
	args := []string{"sync", "", `C:\Program Files\x`, `a"b`, `trailing\`, `sp ace\`, `q\"q`, `\\server\share\`}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = WindowsQuote(a)
	}
	if got := splitWindows(strings.Join(q, " ")); !reflect.DeepEqual(got, args) {
		t.Errorf("round trip:\n%q\n%q", got, args)
	}
}

func TestCron(t *testing.T) {
	tests := []struct {
		every time.Duration
		want  string
	}{
		{time.Minute, "* * * * *"},
		{15 * time.Minute, "*/15 * * * *"},
		{time.Hour, "0 * * * *"},
		{6 * time.Hour, "0 */6 * * *"},
		{24 * time.Hour, "0 0 * * *"},
		{7 * time.Minute, ""},
		{5 * time.Hour, ""},
	}
	for _, tc := range tests {
		s := unixSpec()
		s.Every = tc.every
		s.Args = append(s.Args, "100%")
		got, err := CronLine(s)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: %q, want an error", tc.every, got)
			}
			continue
		}
		if err != nil || !strings.HasPrefix(got, tc.want+" /usr/local/bin/pstsync") || !strings.Contains(got, `100\%`) {
			t.Errorf("%s: %q %v", tc.every, got, err)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Minute: "1m", 30 * time.Minute: "30m", time.Hour: "1h",
		90 * time.Minute: "1h30m", 36 * time.Hour: "36h", 10 * time.Minute: "10m"} {
		if got := HumanDuration(d); got != want {
			t.Errorf("%s: %s, want %s", d, got, want)
		}
	}
	s := unixSpec()
	s.Every = 30 * time.Minute
	_, tmr, _ := SystemdUnits(s)
	if !strings.Contains(tmr, "OnUnitInactiveSec=30m\n") {
		t.Errorf("timer:\n%s", tmr)
	}
}

func TestCheck(t *testing.T) {
	for _, mod := range []func(*Spec){
		func(s *Spec) { s.Every = 30 * time.Second },
		func(s *Spec) { s.Every = 90 * time.Second },
		func(s *Spec) { s.Every = 32 * 24 * time.Hour },
		func(s *Spec) { s.Exe = "" },
		func(s *Spec) { s.UserID = "" },
	} {
		s := spec()
		mod(&s)
		if _, err := TaskXML(s); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

func TestInstallRemoveStatus(t *testing.T) {
	var calls [][]string
	var xmlSeen []byte
	run := func(_ context.Context, name string, args ...string) ([]byte, error) {
		calls = append(calls, append([]string{name}, args...))
		if i := slices.Index(args, "/XML"); i >= 0 {
			xmlSeen, _ = os.ReadFile(args[i+1])
		}
		return []byte("Status: Ready\n"), nil
	}
	ctx := context.Background()
	s := spec()
	if err := Install(ctx, run, s); err != nil {
		t.Fatal(err)
	}
	if err := Remove(ctx, run, s.Name); err != nil {
		t.Fatal(err)
	}
	out, err := Status(ctx, run, s.Name)
	if err != nil || !strings.Contains(string(out), "Ready") {
		t.Fatal(out, err)
	}
	want := [][]string{
		{"schtasks", "/Create", "/TN", s.Name, "/XML", "", "/F"},
		{"schtasks", "/Delete", "/TN", s.Name, "/F"},
		{"schtasks", "/Query", "/TN", s.Name, "/V", "/FO", "LIST"},
	}
	calls[0][5] = ""
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls:\n%q\nwant\n%q", calls, want)
	}
	if ref, _ := TaskXMLUTF16(s); !bytes.Equal(xmlSeen, ref) {
		t.Error("schtasks did not get the UTF-16 task XML")
	}
}
