package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/cryptstore"
	"github.com/urfave/cli/v2"
)

// passphraseError is an encrypted store without the right passphrase
// (exit code exitPassphrase); nothing was written.
type passphraseError struct {
	store string
	err   error
}

func (e *passphraseError) Error() string {
	if errors.Is(e.err, cryptstore.ErrNoPassphrase) {
		return fmt.Sprintf("store %s is encrypted and no passphrase is configured; set passphrase in the config file, PSTSYNC_PASSPHRASE or passphrase_file", e.store)
	}
	return fmt.Sprintf("store %s: %v; check passphrase in the config file, PSTSYNC_PASSPHRASE or passphrase_file (pstsync key list shows the store's keys)", e.store, e.err)
}
func (e *passphraseError) Unwrap() error { return e.err }

// storeBusyError is a store being encrypted (exit code exitRunning: the
// run is skipped, nothing changed).
type storeBusyError struct {
	store string
	m     *cryptstore.Marker
}

func (e *storeBusyError) Error() string {
	return fmt.Sprintf("store %s is being encrypted (by %s on %s since %s); sync again when pstsync store encrypt has finished (run it again to resume an interrupted one)",
		e.store, e.m.User, e.m.Host, e.m.Since.Local().Format(time.DateTime))
}

// openStore opens the configured store; an encrypted store is opened with
// the configured passphrase. A clear store with a passphrase configured is
// refused (run pstsync store encrypt), as is a store being encrypted.
func openStore(ctx context.Context, cfg *config.Config) (sink.Store, error) {
	return openStoreWith(ctx, cfg, storeOpen{})
}

// storeOpen says how openStoreWith opens the store.
type storeOpen struct {
	// create (sync --init): an empty store with a passphrase configured
	// starts encrypted (so it does with background).
	create bool
	// background (sync): an encrypted store's key is derived in the
	// background (cryptstore.OpenAsAsync, InitAsync) while the caller
	// goes on; a wrong passphrase then surfaces at the store's first
	// use, and keyFailure turns it into the passphraseError openStore
	// gives.
	background bool
}

func openStoreWith(ctx context.Context, cfg *config.Config, o storeOpen) (sink.Store, error) {
	st, err := openPlainStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return openEncryption(ctx, cfg, st, o)
}

func openEncryption(ctx context.Context, cfg *config.Config, st sink.Store, o storeOpen) (sink.Store, error) {
	enc, converting, err := cryptstore.Probe(ctx, st)
	if err != nil {
		return nil, err
	}
	if converting {
		m, err := cryptstore.ReadMarker(ctx, st)
		if err != nil {
			return nil, err
		}
		if m != nil {
			return nil, &storeBusyError{store: sink.RedactURL(cfg.Store), m: m}
		}
	}
	pass, err := cfg.StorePassphrase()
	if err != nil {
		return nil, err
	}
	if !enc {
		if pass == "" {
			return st, nil
		}
		// An empty store (hidden leftovers of a first sync stopped before
		// its key file was written are not listed) with a passphrase
		// configured: a sync starts it encrypted, as the office's first
		// sync (--init) does.
		all, err := st.List(ctx, "")
		if err != nil {
			return nil, err
		}
		switch {
		case len(all) == 0 && o.background:
			return cryptstore.InitAsync(ctx, st, pass, keyInfo(cfg), storeKDF())
		case len(all) == 0 && o.create:
			return cryptstore.Init(ctx, st, pass, keyInfo(cfg), storeKDF())
		case len(all) == 0:
			return nil, fmt.Errorf("store %s holds nothing yet (no key file): its first sync starts it encrypted: %w",
				sink.RedactURL(cfg.Store), config.ErrInvalid)
		}
		return nil, fmt.Errorf("store %s is not encrypted but a passphrase is configured; run pstsync store encrypt, or remove the passphrase: %w",
			sink.RedactURL(cfg.Store), config.ErrInvalid)
	}
	open := cryptstore.OpenAs
	if o.background {
		open = cryptstore.OpenAsAsync
	}
	cs, err := open(ctx, st, pass, cfg.User)
	if err != nil {
		if isPassphraseError(err) {
			return nil, &passphraseError{store: sink.RedactURL(cfg.Store), err: err}
		}
		return nil, err
	}
	return cs, nil
}

func isPassphraseError(err error) bool {
	return errors.Is(err, cryptstore.ErrPassphrase) || errors.Is(err, cryptstore.ErrNoPassphrase)
}

// keyFailure is, after an operation on st failed, the passphraseError of
// an encrypted store opened in the background whose passphrase turned out
// wrong (the operation's error wraps it among other context); nil when
// that was not the cause. It waits for the key derivation if it has not
// finished.
func keyFailure(ctx context.Context, cfg *config.Config, st sink.Store) error {
	cs, ok := st.(*cryptstore.Store)
	if !ok {
		return nil
	}
	if err := cs.Ready(context.WithoutCancel(ctx)); isPassphraseError(err) {
		return &passphraseError{store: sink.RedactURL(cfg.Store), err: err}
	}
	return nil
}

// keyInfo describes a new key file: this user and machine, now.
func keyInfo(cfg *config.Config) cryptstore.KeyInfo {
	host, _ := os.Hostname()
	return cryptstore.KeyInfo{User: cfg.User, Host: host, Created: time.Now().UTC()}
}

// storeKDF is the KDF of new key files: argon2id (tests lower its cost
// through the environment).
func storeKDF() cryptstore.KDF {
	if os.Getenv("PSTSYNC_TEST_CHEAP_KDF") == "1" {
		return cryptstore.KDF{Alg: cryptstore.AlgArgon2id, Time: 1, MemoryKiB: 64, Threads: 1}
	}
	return cryptstore.DefaultKDF
}

// verifyEncryption checks every authentication tag of an encrypted store
// and prints each failure; it returns how many failed (0 for a clear
// store).
func verifyEncryption(c *cli.Context) (int, error) {
	cfg, _, err := loadConfig(c)
	if err != nil {
		return 0, err
	}
	st, err := openStore(c.Context, cfg)
	if err != nil {
		return 0, err
	}
	cs, ok := st.(*cryptstore.Store)
	if !ok {
		return 0, nil
	}
	problems, err := cs.Verify(c.Context)
	if err != nil {
		return 0, err
	}
	for _, p := range problems {
		fmt.Fprintf(c.App.Writer, "problem: tampered: %s: %v\n  repair: restore the file from a backup, or run pstsync check --repair to drop it\n", p.Key, p.Err)
	}
	return len(problems), nil
}

func newStoreCommand() *cli.Command {
	return &cli.Command{
		Name:  "store",
		Usage: "change the shared store as a whole",
		Flags: storeFlags(), // also before the subcommand (see interspersed)
		Subcommands: withUsageErrors(&cli.Command{
			Name:  "encrypt",
			Usage: "encrypt a clear-text store in place (or start an empty store encrypted)",
			Description: "Needs the passphrase in the config file, PSTSYNC_PASSPHRASE or passphrase_file: it becomes\n" +
				"the store's first key. While it runs, colleagues' syncs are skipped (exit code 9) and\n" +
				"wait; every file is encrypted, read back and compared before the clear one is deleted,\n" +
				"and a run that was interrupted resumes. Every colleague then needs a passphrase\n" +
				"(pstsync key add) and a pstsync that knows encrypted stores.",
			Flags: storeFlags(),
			Action: func(c *cli.Context) error {
				cfg, _, err := loadConfig(flagsCtx(c))
				if err != nil {
					return err
				}
				if cfg.Store == "" {
					return fmt.Errorf("no store: give --store PATH or s3://BUCKET/PREFIX: %w", config.ErrInvalid)
				}
				pass, err := cfg.StorePassphrase()
				if err != nil {
					return err
				}
				if pass == "" {
					return fmt.Errorf("no passphrase: set passphrase in the config file, PSTSYNC_PASSPHRASE or passphrase_file, then run pstsync store encrypt again: %w", config.ErrInvalid)
				}
				ctx := c.Context
				st, err := openPlainStore(ctx, cfg)
				if err != nil {
					return &unreachableError{store: cfg.Store, err: err}
				}
				m, err := cryptstore.ReadMarker(ctx, st)
				if err != nil {
					return err
				}
				enc, err := cryptstore.IsEncrypted(ctx, st)
				if err != nil {
					return err
				}
				if enc && m == nil {
					return fmt.Errorf("store %s is already encrypted (pstsync key list shows its keys): %w", sink.RedactURL(cfg.Store), config.ErrInvalid)
				}
				info := keyInfo(cfg)
				if m == nil {
					host, _ := os.Hostname()
					if err := cryptstore.WriteMarker(ctx, st, cryptstore.Marker{User: cfg.User, Host: host, Since: time.Now().UTC()}); err != nil {
						return err
					}
				}
				var cs *cryptstore.Store
				if enc {
					cs, err = cryptstore.OpenAs(ctx, st, pass, cfg.User)
					if err != nil {
						return &passphraseError{store: sink.RedactURL(cfg.Store), err: err}
					}
					fmt.Fprintln(c.App.Writer, "resuming an interrupted conversion")
				} else {
					cs, err = cryptstore.Init(ctx, st, pass, info, storeKDF())
					if err != nil {
						return err
					}
				}
				stats, err := cryptstore.Convert(ctx, cs, nil)
				if err != nil {
					return fmt.Errorf("%w; nothing was lost: the clear-text files stay until their copies are verified; run pstsync store encrypt again", err)
				}
				fmt.Fprintf(c.App.Writer, "store %s encrypted: %d file(s) in %d pass(es); key %s\n", sink.RedactURL(cfg.Store), stats.Files, stats.Passes, cs.KeyID())
				fmt.Fprintln(c.App.Writer, "every colleague needs the passphrase (or a key of their own: pstsync key add); if every passphrase is lost, nothing can be recovered")
				return nil
			},
		}),
	}
}

// storeStateError reports whether err says the store is encrypted without
// the right passphrase, being encrypted or configured inconsistently: not
// a store that cannot be reached.
func storeStateError(err error) bool {
	var pe *passphraseError
	var be *storeBusyError
	return errors.As(err, &pe) || errors.As(err, &be) || errors.Is(err, config.ErrInvalid)
}

// protectPassphraseFlag: config init stores the store's passphrase
// protected with DPAPI (Windows).
var protectPassphraseFlag = &cli.BoolFlag{Name: "protect-passphrase",
	Usage: "init, on Windows: store the encrypted store's passphrase (asked for, or PSTSYNC_NEW_PASSPHRASE) in the file, protected with DPAPI for you"}

// withProtectedPassphrase sets the passphrase option of a new config
// file's text to the DPAPI-protected passphrase, with --protect-passphrase.
func withProtectedPassphrase(c *cli.Context, example string) (string, error) {
	if !c.Bool("protect-passphrase") {
		return example, nil
	}
	if !config.DPAPIAvailable {
		return "", usageError{fmt.Errorf("--protect-passphrase needs Windows (DPAPI); elsewhere put the passphrase in a file readable only by you and name it with passphrase_file")}
	}
	p, err := newPassphrase(c)
	if err != nil {
		return "", err
	}
	v, err := config.ProtectPassphrase(p)
	if err != nil {
		return "", err
	}
	const line = "# passphrase = \"\"\n"
	if !strings.Contains(example, line) {
		return "", fmt.Errorf("config init: no passphrase line in the example")
	}
	return strings.Replace(example, line, fmt.Sprintf("passphrase = %q\n", v), 1), nil
}
