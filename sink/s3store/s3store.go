// Package s3store is the sink.Store on S3 or any S3-compatible server
// (MinIO, versitygw, Ceph RGW, Garage, Backblaze B2, Wasabi, ...), through
// minio-go v7.
//
// Conditional puts map to the S3 conditional-write headers, sent on a
// single-part PUT whatever the object's size (a multipart upload would
// ignore them): Cond.IfNoneMatch is "If-None-Match: *", Cond.IfMatch is
// "If-Match: <etag>". A server that ignores these headers would break the
// snapshot's guarantees; run the conformance suite (sink/storetest) against
// a new kind of server before trusting it.
//
// A request that fails in transit is retried (Config.MaxRetries). When the
// first attempt of a conditional put did land and only its answer was lost,
// the retry fails its condition: a precondition failure can then hide the
// caller's own successful write, so a caller that retries on
// sink.IsPreconditionFailed must re-read and compare before writing again
// (the snapshot layer does: it re-reads the revision it lost).
//
// Credentials come from Config, else the AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) environment, else the shared
// credentials file (~/.aws/credentials or AWS_SHARED_CREDENTIALS_FILE,
// profile AWS_PROFILE or "default"). They are never logged nor put in an
// error message.
package s3store

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pstsync/pstsync/sink"
)

// Config says where the store is and how to reach it.
type Config struct {
	// Endpoint is the server: "host", "host:port", or a URL
	// "https://host:port" / "http://host:port" (http:// means Insecure).
	// Empty means AWS ("s3.amazonaws.com").
	Endpoint string
	// Bucket must exist; New checks.
	Bucket string
	// Prefix is prepended to every key ("" or "office/"; a missing final
	// slash is added).
	Prefix string
	// Region is the bucket's region; empty lets the client find out.
	Region string
	// AccessKey and SecretKey, when both set, take precedence over the
	// environment and the credentials file. Fill them from a config file
	// or a secret store, never from a command-line flag.
	AccessKey, SecretKey string
	// CredentialsFile is the shared credentials file (empty: the AWS
	// default) and Profile its section (empty: AWS_PROFILE or "default").
	CredentialsFile, Profile string
	// Insecure uses plain HTTP. TLS is the default.
	Insecure bool
	// PathStyle addresses the bucket as https://host/bucket (needed by
	// most self-hosted servers) instead of https://bucket.host.
	PathStyle bool
	// Timeout bounds every call (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxRetries is how often a failed request is retried (with backoff,
	// within Timeout); DefaultMaxRetries when zero, none when negative.
	MaxRetries int
}

// Defaults of Config.
const (
	DefaultTimeout    = time.Minute
	DefaultMaxRetries = 3
	DefaultEndpoint   = "s3.amazonaws.com"
)

// ParseURL parses "s3://BUCKET[/PREFIX][?endpoint=HOST:PORT&region=R&path-style=true&tls=false]"
// into a Config. Credentials are never taken from a URL (it would show in
// ps and in logs): a URL with a user or password is an error.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Config{}, fmt.Errorf("s3store: bad store URL: %s", sink.RedactURL(err.Error()))
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3store: store URL %q: want s3://BUCKET/PREFIX", sink.RedactURL(s))
	}
	if u.User != nil {
		return Config{}, errors.New("s3store: store URL holds credentials: remove them and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use a credentials file")
	}
	if u.Host == "" {
		return Config{}, fmt.Errorf("s3store: store URL %q has no bucket: want s3://BUCKET/PREFIX", sink.RedactURL(s))
	}
	cfg := Config{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}
	if cfg.Prefix != "" {
		cfg.Prefix += "/"
		if err := sink.CheckPrefix(cfg.Prefix); err != nil {
			return Config{}, fmt.Errorf("s3store: store URL %q: %w", sink.RedactURL(s), err)
		}
	}
	q := u.Query()
	for k, v := range q {
		val := v[len(v)-1]
		switch k {
		case "endpoint":
			cfg.Endpoint = val
		case "region":
			cfg.Region = val
		case "path-style", "tls":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return Config{}, fmt.Errorf("s3store: store URL %q: %s=%q is not true or false", sink.RedactURL(s), k, val)
			}
			if k == "tls" {
				cfg.Insecure = !b
			} else {
				cfg.PathStyle = b
			}
		default:
			return Config{}, fmt.Errorf("s3store: store URL %q: unknown parameter %q (known: endpoint, region, path-style, tls)", sink.RedactURL(s), k)
		}
	}
	return cfg, nil
}

// Store is a sink.Store on an S3 bucket, safe for concurrent use.
type Store struct {
	client   *minio.Client
	core     minio.Core
	bucket   string
	prefix   string
	endpoint string
	timeout  time.Duration
}

var _ sink.Store = (*Store)(nil)

// New connects to the bucket and checks that it exists. Errors wrap
// sink.ErrStoreMissing (no such bucket), sink.ErrAccessDenied (credentials)
// or sink.ErrUnavailable (server unreachable), with a remedy in the message.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("s3store: no bucket given: %w", sink.ErrStoreMissing)
	}
	endpoint, insecure := cfg.Endpoint, cfg.Insecure
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
			return nil, fmt.Errorf("s3store: endpoint %q: want HOST[:PORT] or http(s)://HOST[:PORT] (credentials go in the config file or environment, never in the address)", sink.RedactURL(cfg.Endpoint))
		}
		switch u.Scheme {
		case "http":
			insecure = true
		case "https":
		default:
			return nil, fmt.Errorf("s3store: endpoint %q: scheme must be http or https", sink.RedactURL(cfg.Endpoint))
		}
		endpoint = u.Host
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if err := sink.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("s3store: prefix: %w", err)
	}
	transport, err := minio.DefaultTransport(!insecure)
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	transport.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.ResponseHeaderTimeout = time.Minute
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 1 // minio-go counts the first attempt
	default:
		retries++
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentialChain(cfg),
		Secure:       !insecure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    transport,
		MaxRetries:   retries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3store: endpoint %s: %w", endpoint, err)
	}
	client.SetAppInfo("pstsync", "1")
	s := &Store{
		client:   client,
		core:     minio.Core{Client: client},
		bucket:   cfg.Bucket,
		prefix:   prefix,
		endpoint: client.EndpointURL().String(),
		timeout:  cfg.Timeout,
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	ok, err := client.BucketExists(cctx, s.bucket)
	if err != nil {
		return nil, s.fail(ctx, cctx, "open", "", err)
	}
	if !ok {
		return nil, fmt.Errorf("s3store: bucket %q does not exist at %s (create it, or fix the bucket name or region): %w",
			s.bucket, s.endpoint, sink.ErrStoreMissing)
	}
	return s, nil
}

// credentialChain: Config's keys, the environment, the credentials file.
func credentialChain(cfg Config) *credentials.Credentials {
	var providers []credentials.Provider
	if cfg.AccessKey != "" && cfg.SecretKey != "" {
		providers = append(providers, &credentials.Static{Value: credentials.Value{
			AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey, SignerType: credentials.SignatureV4,
		}})
	}
	providers = append(providers,
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{Filename: cfg.CredentialsFile, Profile: cfg.Profile},
	)
	return credentials.NewChainCredentials(providers)
}

// String implements sink.Store: "s3://bucket/prefix" (no credentials).
func (s *Store) String() string {
	return "s3://" + s.bucket + "/" + s.prefix
}

// Endpoint returns the server's URL.
func (s *Store) Endpoint() string { return s.endpoint }

func (s *Store) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Get implements sink.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, string, error) {
	if err := sink.CheckKey(key); err != nil {
		return nil, "", fmt.Errorf("s3store: get: %w", err)
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	body, info, _, err := s.core.GetObject(cctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s.fail(ctx, cctx, "get", key, err)
	}
	defer body.Close()
	var buf bytes.Buffer
	if info.Size > 0 {
		buf.Grow(int(info.Size))
	}
	if _, err := io.Copy(&buf, body); err != nil {
		return nil, "", s.fail(ctx, cctx, "get", key, err)
	}
	if info.Size >= 0 && int64(buf.Len()) != info.Size {
		return nil, "", fmt.Errorf("s3store: get %s: read %d of %d bytes: %w", key, buf.Len(), info.Size, sink.ErrUnavailable)
	}
	if info.ETag == "" {
		return nil, "", fmt.Errorf("s3store: get %s: the server sent no ETag", key)
	}
	return buf.Bytes(), info.ETag, nil
}

// Put implements sink.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte, cond sink.Cond) (string, error) {
	if err := sink.CheckKey(key); err != nil {
		return "", fmt.Errorf("s3store: put: %w", err)
	}
	opts := minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		DisableMultipart: true, // conditions hold for single PUTs only
		SendContentMd5:   true,
	}
	switch {
	case cond.IfNoneMatch && cond.IfMatch != "":
		return "", fmt.Errorf("s3store: put %s: IfNoneMatch and IfMatch together never hold: %w", key, sink.ErrPrecondition)
	case cond.IfNoneMatch:
		opts.SetMatchETagExcept("*")
	case cond.IfMatch != "":
		etag := strings.Trim(cond.IfMatch, `"`)
		if etag == "" || strings.ContainsAny(etag, `*" ,`) {
			// Not an ETag this store gives; "*" would mean "exists".
			return "", fmt.Errorf("s3store: put %s if-match %s: not an ETag of this store: %w", key, cond.IfMatch, sink.ErrPrecondition)
		}
		opts.SetMatchETag(etag)
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	info, err := s.client.PutObject(cctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		err = s.fail(ctx, cctx, "put", key, err)
		if cond.IfMatch != "" && sink.IsNotExist(err) {
			// AWS answers If-Match on a missing key with 404.
			return "", fmt.Errorf("%w: %w", err, sink.ErrPrecondition)
		}
		return "", err
	}
	if info.ETag == "" {
		return "", fmt.Errorf("s3store: put %s: the server sent no ETag", key)
	}
	return info.ETag, nil
}

// List implements sink.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := sink.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("s3store: list: %w", err)
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	var keys []string
	for obj := range s.client.ListObjects(cctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, s.fail(ctx, cctx, "list", prefix, obj.Err)
		}
		key, ok := strings.CutPrefix(obj.Key, s.prefix)
		if !ok || strings.HasSuffix(key, "/") || sink.CheckKey(key) != nil {
			continue // folder markers and objects not written through a Store
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete implements sink.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := sink.CheckKey(key); err != nil {
		return fmt.Errorf("s3store: delete: %w", err)
	}
	cctx, cancel := s.callCtx(ctx)
	defer cancel()
	err := s.client.RemoveObject(cctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err != nil {
		err = s.fail(ctx, cctx, "delete", key, err)
		if sink.IsNotExist(err) {
			return nil
		}
		return err
	}
	return nil
}

// fail classifies err from operation op on key. ctx is the caller's
// context, cctx the call's (with the store's timeout).
func (s *Store) fail(ctx, cctx context.Context, op, key string, err error) error {
	what := fmt.Sprintf("s3store: %s %s", op, s.String()+key)
	if ctx.Err() != nil { // the caller gave up: not the store's fault
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.PreconditionFailed, "ConditionalRequestConflict":
		return fmt.Errorf("%s: %s: %w", what, resp.Code, sink.ErrPrecondition)
	case minio.NoSuchKey:
		return fmt.Errorf("%s: %w", what, sink.ErrNotExist)
	case minio.NoSuchBucket:
		return fmt.Errorf("%s: bucket %q does not exist at %s (create it, or fix the bucket name or region): %w",
			what, s.bucket, s.endpoint, sink.ErrStoreMissing)
	case minio.AccessDenied, minio.InvalidAccessKeyID, minio.SignatureDoesNotMatch, "ExpiredToken", "InvalidToken",
		"InvalidClientTokenId", "AuthorizationHeaderMalformed", "RequestTimeTooSkewed",
		"XAdminUserNotFound": // versitygw's answer to an unknown access key
		return fmt.Errorf("%s: %s (%s): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the credentials file, "+
			"the region and the clock, and that the key may use bucket %q: %w", what, resp.Code, resp.Message, s.bucket, sink.ErrAccessDenied)
	}
	if resp.Code == "" && resp.StatusCode == 0 {
		var (
			netErr net.Error
			tlsErr tls.RecordHeaderError
		)
		switch {
		case cctx.Err() != nil:
			return fmt.Errorf("%s: no answer from %s within %s (is the server up? check the endpoint): %w: %w",
				what, s.endpoint, s.timeout, sink.ErrUnavailable, cctx.Err())
		case errors.As(err, &tlsErr), strings.Contains(err.Error(), "HTTP response to HTTPS client"):
			return fmt.Errorf("%s: TLS failed with %s (does the server speak plain HTTP? then use an http:// endpoint): %w: %w",
				what, s.endpoint, sink.ErrUnavailable, err)
		case errors.As(err, &netErr), isConnErr(err):
			return fmt.Errorf("%s: cannot reach %s (is the server up? check the endpoint and the network): %w: %w",
				what, s.endpoint, sink.ErrUnavailable, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode == 403 {
		return fmt.Errorf("%s: %s (%s): check that the key may use bucket %q: %w", what, resp.Code, resp.Message, s.bucket, sink.ErrAccessDenied)
	}
	if resp.StatusCode >= 500 || resp.Code == "SlowDown" {
		return fmt.Errorf("%s: server error at %s: %s %s: %w: %w", what, s.endpoint, resp.Code, resp.Message, sink.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isConnErr(err error) bool {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, http.ErrServerClosed)
}
