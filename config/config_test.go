package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pstsync/pstsync/internal/testutil"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(testutil.TempDir(t), "pstsync.toml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// value reads an option's effective value in its Go type.
func value(c *Config, key string) any {
	return reflect.ValueOf(lookup(key).ptr(c)).Elem().Interface()
}

func TestPrecedence(t *testing.T) {
	type layer struct {
		file string // TOML value text ("" = absent)
		env  string
		flag []string
	}
	kinds := []struct {
		key      string
		def      any
		file     string
		fileWant any
		env      string
		envWant  any
		flag     []string
		flagWant any
	}{
		{"user", "", `"filealice"`, "filealice", "envalice", "envalice", []string{"flagalice"}, "flagalice"},
		{"on_conflict", "keep-both", `"mine"`, "mine", "theirs", "theirs", []string{"newest"}, "newest"},
		{"s3.path_style", false, `true`, true, "false", false, []string{"true"}, true},
		{"s3.tls", true, `false`, false, "yes", true, []string{"false"}, false},
		{"log.max_files", 3, `7`, 7, "9", 9, []string{"11"}, 11},
		{"every", 15 * time.Minute, `"5m"`, 5 * time.Minute, "1h", time.Hour, []string{"90s"}, 90 * time.Second},
		{"s3.timeout", time.Minute, `"2m"`, 2 * time.Minute, "3m", 3 * time.Minute, []string{"4m"}, 4 * time.Minute},
		{"share", []string(nil), `["Team", "Projects"]`, []string{"Team", "Projects"},
			"A, B,C", []string{"A", "B", "C"}, []string{"X, Y", "Z"}, []string{"X, Y", "Z"}},
	}
	for _, k := range kinds {
		opt := lookup(k.key)
		if opt == nil {
			t.Fatalf("no option %s", k.key)
		}
		cases := []struct {
			name string
			l    layer
			want any
			from OriginKind
		}{
			{"default", layer{}, k.def, FromDefault},
			{"file", layer{file: k.file}, k.fileWant, FromFile},
			{"env", layer{env: k.env}, k.envWant, FromEnv},
			{"flag", layer{flag: k.flag}, k.flagWant, FromFlag},
			{"env>file", layer{file: k.file, env: k.env}, k.envWant, FromEnv},
			{"flag>env>file", layer{file: k.file, env: k.env, flag: k.flag}, k.flagWant, FromFlag},
			{"flag>file", layer{file: k.file, flag: k.flag}, k.flagWant, FromFlag},
		}
		for _, tc := range cases {
			t.Run(k.key+"/"+tc.name, func(t *testing.T) {
				content := ""
				if tc.l.file != "" {
					content = k.key + " = " + tc.l.file + "\n"
				}
				path := writeFile(t, content)
				env := map[string]string{}
				if tc.l.env != "" {
					env[opt.Env()] = tc.l.env
				}
				c, src, err := Load(path, envMap(env))
				if err != nil {
					t.Fatal(err)
				}
				if !src.Found || src.Path != path {
					t.Fatalf("source = %+v", src)
				}
				if tc.l.flag != nil {
					if err := c.Apply(Overrides{k.key: tc.l.flag}); err != nil {
						t.Fatal(err)
					}
				}
				if got := value(c, k.key); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s = %#v, want %#v", k.key, got, tc.want)
				}
				if got := c.Origin(k.key).Kind; got != tc.from {
					t.Errorf("origin = %v, want kind %v", c.Origin(k.key), tc.from)
				}
			})
		}
	}
}

func TestSecrets(t *testing.T) {
	path := writeFile(t, "[s3]\naccess_key = \"AKFILE\"\nsecret_key = \"file-secret\"\n")
	tests := []struct {
		name string
		env  map[string]string
		want string
		from string
	}{
		{"file", nil, "file-secret", "file " + path},
		{"aws env over file", map[string]string{"AWS_SECRET_ACCESS_KEY": "aws"}, "aws", "env AWS_SECRET_ACCESS_KEY"},
		{"pstsync env over aws env", map[string]string{"AWS_SECRET_ACCESS_KEY": "aws", "PSTSYNC_S3_SECRET_KEY": "ours"}, "ours", "env PSTSYNC_S3_SECRET_KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load(path, envMap(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.S3.SecretKey != tc.want || c.Origin("s3.secret_key").String() != tc.from {
				t.Errorf("secret = %q from %v, want %q from %s", c.S3.SecretKey, c.Origin("s3.secret_key"), tc.want, tc.from)
			}
			for _, s := range c.Settings() {
				if strings.Contains(s.Value, tc.want) || strings.Contains(s.Value, "AKFILE") {
					t.Errorf("setting %s shows a credential: %s", s.Key, s.Value)
				}
			}
		})
	}
	c, _, _ := Load(path, nil)
	for _, key := range []string{"s3.secret_key", "s3.access_key"} {
		err := c.Apply(Overrides{key: {"x"}})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "command line") {
			t.Errorf("Apply(%s) = %v, want a refusal", key, err)
		}
		if lookup(key).Flag() != "" {
			t.Errorf("%s has a flag", key)
		}
	}
	if c.S3.SecretKey != "file-secret" {
		t.Errorf("refused override changed the secret: %q", c.S3.SecretKey)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := testutil.TempDir(t)
	tests := []struct {
		name    string
		path    string
		env     map[string]string
		content string
		want    string // in the error; "" = no error
	}{
		{"explicit missing", filepath.Join(dir, "nope.toml"), nil, "", "nope.toml"},
		{"env-named missing", "", map[string]string{"PSTSYNC_CONFIG": filepath.Join(dir, "gone.toml")}, "", "gone.toml"},
		{"default missing is fine", "", map[string]string{"XDG_CONFIG_HOME": dir, "APPDATA": dir}, "", ""},
		{"syntax", "", nil, "user = \"a\nstore = 1\n", "line"},
		{"wrong type", "", nil, "every = 15\n", "every"},
		{"bad duration", "", nil, "every = \"fortnight\"\n", "not a duration"},
		{"bad env bool", "", map[string]string{"PSTSYNC_S3_TLS": "maybe"}, "user = \"a\"\n", "PSTSYNC_S3_TLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if tc.content != "" {
				path = writeFile(t, tc.content)
			}
			_, _, err := Load(path, envMap(tc.env))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func valid() *Config {
	c := Default()
	c.User, c.PST, c.Store, c.Mailbox = "alice", "alice.pst", "/srv/pstsync", "/home/alice/pstsync"
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Config)
		keys []string // keys of the expected errors
	}{
		{"ok", func(*Config) {}, nil},
		{"ok s3", func(c *Config) { c.Store, c.S3.Endpoint = "s3://bucket/office", "nas:7070" }, nil},
		{"missing all", func(c *Config) { *c = *Default() }, []string{"user", "pst", "store", "mailbox"}},
		{"both inputs", func(c *Config) { c.Source = "dir" }, []string{"source"}},
		{"bad user", func(c *Config) { c.User = "../x" }, []string{"user"}},
		{"s3 without endpoint: AWS", func(c *Config) { c.Store = "s3://b" }, nil},
		{"s3 without bucket", func(c *Config) { c.Store, c.S3.Endpoint = "s3://", "h" }, []string{"store"}},
		{"endpoint URL", func(c *Config) { c.S3.Endpoint = "https://h:7070" }, nil},
		{"endpoint other scheme", func(c *Config) { c.S3.Endpoint = "ftp://h" }, []string{"s3.endpoint"}},
		{"other scheme", func(c *Config) { c.Store = "ftp://x" }, []string{"store"}},
		{"half credentials", func(c *Config) { c.S3.AccessKey = "a" }, []string{"s3.secret_key"}},
		{"bad policy", func(c *Config) { c.OnConflict = "random" }, []string{"on_conflict"}},
		{"durations", func(c *Config) { c.Timeout, c.Every, c.S3.Timeout = 0, 30*time.Second, -1 }, []string{"timeout", "every", "s3.timeout"}},
		{"log", func(c *Config) { c.Log.Format, c.Log.Level, c.Log.MaxSizeMB, c.Log.MaxFiles = "xml", "loud", 0, 0 },
			[]string{"log.format", "log.level", "log.max_size_mb", "log.max_files"}},
		{"unknown key", func(c *Config) { c.unknown = []string{"pts"} }, []string{"pts"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mod(c)
			var keys []string
			for _, err := range c.Validate() {
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("%v is not an *Error wrapping ErrInvalid", err)
				}
				keys = append(keys, e.Key)
			}
			if !reflect.DeepEqual(keys, tc.keys) {
				t.Errorf("errors on %v, want %v", keys, tc.keys)
			}
		})
	}
}

func TestUnknownKeyFromFile(t *testing.T) {
	c, _, err := Load(writeFile(t, "usr = \"a\"\n[s3]\nendpiont = \"x\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.unknown, ",")
	if got != "s3.endpiont,usr" {
		t.Errorf("unknown = %s", got)
	}
}

func TestExample(t *testing.T) {
	ex := Example()
	for _, o := range options {
		leaf := o.Key[strings.LastIndex(o.Key, ".")+1:]
		if !strings.Contains(ex, leaf+" =") {
			t.Errorf("example does not mention %s", o.Key)
		}
	}
	c, err := Parse("example", []byte(ex))
	if err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	for i, s := range c.Settings() {
		if d := Default().Settings()[i]; s.Value != d.Value {
			t.Errorf("example changes %s: %s, default %s", s.Key, s.Value, d.Value)
		}
	}
	if len(c.Validate()) == 0 {
		t.Errorf("empty example validates")
	}
	filled := valid()
	filled.Share = []string{"Team", "Tab\tand \"quote\" \\ Zoë"}
	filled.PST = `C:\Users\anna\Documents\Outlook Files\anna.pst`
	c, err = Parse("filled", []byte(ExampleFor(filled)))
	if err != nil {
		t.Fatal(err)
	}
	if errs := c.Validate(); len(errs) != 0 {
		t.Errorf("filled example: %v", errs)
	}
	if c.PST != filled.PST || !reflect.DeepEqual(c.Share, filled.Share) || c.User != "alice" {
		t.Errorf("filled example round trip: %+v", c)
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		goos string
		env  map[string]string
		cfg  string
		st   string
		log  string
	}{
		{"windows", map[string]string{"APPDATA": `C:\Users\a\AppData\Roaming`, "LOCALAPPDATA": `C:\Users\a\AppData\Local`},
			`C:\Users\a\AppData\Roaming\pstsync\pstsync.toml`, `C:\Users\a\AppData\Local\pstsync`, `C:\Users\a\AppData\Local\pstsync\logs`},
		{"windows", map[string]string{"USERPROFILE": `C:\Users\b`},
			`C:\Users\b\AppData\Roaming\pstsync\pstsync.toml`, `C:\Users\b\AppData\Local\pstsync`, `C:\Users\b\AppData\Local\pstsync\logs`},
		{"linux", map[string]string{"HOME": "/home/a", "XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "/st/"},
			"/cfg/pstsync/pstsync.toml", "/st/pstsync", "/st/pstsync"},
		{"darwin", map[string]string{"HOME": "/Users/a"},
			"/Users/a/.config/pstsync/pstsync.toml", "/Users/a/.local/state/pstsync", "/Users/a/.local/state/pstsync"},
	}
	for _, tc := range tests {
		cfg, err1 := DefaultPath(tc.goos, envMap(tc.env))
		st, err2 := StateDir(tc.goos, envMap(tc.env))
		lg, err3 := LogDir(tc.goos, envMap(tc.env))
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if cfg != tc.cfg || st != tc.st || lg != tc.log {
			t.Errorf("%s %v: %s %s %s", tc.goos, tc.env, cfg, st, lg)
		}
	}
	if _, err := DefaultPath("linux", envMap(nil)); err == nil {
		t.Error("no HOME: no error")
	}
	if _, err := StateDir("windows", envMap(nil)); err == nil {
		t.Error("no LOCALAPPDATA: no error")
	}
}

func TestApplyUnknownAndBad(t *testing.T) {
	c := Default()
	if err := c.Apply(Overrides{"nope": {"1"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown key: %v", err)
	}
	if err := c.Apply(Overrides{"log.max_files": {"many"}}); err == nil || !strings.Contains(err.Error(), "--log-max-files") {
		t.Errorf("bad int: %v", err)
	}
}

func TestFlagNames(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range Options() {
		f := o.Flag()
		if o.Secret != (f == "") {
			t.Errorf("%s: flag %q, secret %v", o.Key, f, o.Secret)
		}
		if f != "" && seen[f] {
			t.Errorf("flag %s twice", f)
		}
		seen[f] = true
	}
	if lookup("s3.path_style").Flag() != "s3-path-style" || lookup("s3.path_style").Env() != "PSTSYNC_S3_PATH_STYLE" {
		t.Error("naming")
	}
}
