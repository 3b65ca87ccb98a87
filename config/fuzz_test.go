package config

import (
	"errors"
	"testing"
)

// FuzzParse: any bytes either parse into a config whose settings and
// validation work, or fail with an ErrInvalid error; never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Example()))
	f.Add([]byte("user = \"a\"\nshare = [\"x\", 1]\n[s3]\ntls = \"yes\"\n"))
	f.Add([]byte("every = \"-5m\"\n[log]\nmax_files = 99999999999999999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		_ = c.Settings()
		for _, err := range c.Validate() {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("validation error %v does not wrap ErrInvalid", err)
			}
		}
	})
}
