package sink

import "testing"

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://KEY:SECRET@minio:9000", "http://<redacted>@minio:9000"},
		{"https://KEY@host/x", "https://<redacted>@host/x"},
		{"s3://bucket/p?endpoint=http://AK:SK@h:9000", "s3://bucket/p?endpoint=http://<redacted>@h:9000"},
		{`endpoint "http://a:b@h": bad; see http://c:d@e`, `endpoint "http://<redacted>@h": bad; see http://<redacted>@e`},
		{"mail anna@example.com", "mail anna@example.com"},
		{"http://host/a@b", "http://host/a@b"},
		{"plain", "plain"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
