package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pstsync/pstsync/config"
	"github.com/pstsync/pstsync/sink"
	"github.com/pstsync/pstsync/sink/cryptstore"
	"github.com/urfave/cli/v2"
)

// newPassphraseFlag names a file holding a new passphrase (never the
// passphrase itself: command lines are seen by every user of a machine).
var newPassphraseFlag = &cli.StringFlag{Name: "new-passphrase-file", Usage: "read the new passphrase from the first line of `FILE` (else PSTSYNC_NEW_PASSPHRASE, else standard input)"}

// newPassphrase returns the new passphrase of key add and key passwd.
func newPassphrase(c *cli.Context) (string, error) {
	c = flagsCtx(c)
	var line string
	switch {
	case c.String("new-passphrase-file") != "":
		data, err := os.ReadFile(c.String("new-passphrase-file"))
		if err != nil {
			return "", usageError{fmt.Errorf("new passphrase file: %w", err)}
		}
		line, _, _ = strings.Cut(string(data), "\n")
	case os.Getenv("PSTSYNC_NEW_PASSPHRASE") != "":
		line = os.Getenv("PSTSYNC_NEW_PASSPHRASE")
	default:
		fmt.Fprint(c.App.ErrWriter, "new passphrase: ")
		s := bufio.NewScanner(c.App.Reader)
		if s.Scan() {
			line = s.Text()
		}
	}
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", usageError{fmt.Errorf("empty new passphrase: give it with --new-passphrase-file FILE, PSTSYNC_NEW_PASSPHRASE or on standard input")}
	}
	return line, nil
}

// openCrypt opens the configured store, which must be encrypted.
func openCrypt(c *cli.Context) (*config.Config, *cryptstore.Store, string, error) {
	cfg, _, err := loadConfig(flagsCtx(c))
	if err != nil {
		return nil, nil, "", err
	}
	if cfg.Store == "" {
		return nil, nil, "", fmt.Errorf("no store: give --store PATH or s3://BUCKET/PREFIX: %w", config.ErrInvalid)
	}
	st, err := openStore(c.Context, cfg)
	if err != nil {
		if storeStateError(err) {
			return nil, nil, "", err
		}
		return nil, nil, "", &unreachableError{store: cfg.Store, err: err}
	}
	cs, ok := st.(*cryptstore.Store)
	if !ok {
		return nil, nil, "", fmt.Errorf("store %s is not encrypted (pstsync store encrypt encrypts it): %w", sink.RedactURL(cfg.Store), config.ErrInvalid)
	}
	pass, _ := cfg.StorePassphrase()
	return cfg, cs, pass, nil
}

// openCryptNew is openCrypt and the new passphrase, for key add and passwd.
func openCryptNew(c *cli.Context) (cfg *config.Config, cs *cryptstore.Store, pass, np string, err error) {
	if cfg, cs, pass, err = openCrypt(c); err != nil {
		return nil, nil, "", "", err
	}
	if np, err = newPassphrase(c); err != nil {
		return nil, nil, "", "", err
	}
	return cfg, cs, pass, np, nil
}

func newKeyCommand() *cli.Command {
	return &cli.Command{
		Name:  "key",
		Usage: "manage the passphrases of an encrypted store",
		Description: "Each key file wraps the store's one master key under one passphrase: adding, removing\n" +
			"or changing a passphrase rewrites a small key file, never the data. The configured passphrase\n" +
			"opens the store; the last key is never removed. If every passphrase is lost, nothing can be\n" +
			"recovered.",
		// the parent takes the flags too: they may come before or after
		// the subcommand (see interspersed)
		Flags: append(storeFlags(), newPassphraseFlag),
		Subcommands: withUsageErrors(
			&cli.Command{
				Name:  "list",
				Usage: "list the key files (* marks the one the configured passphrase opens, ! one that cannot be used)",
				Flags: storeFlags(),
				Action: func(c *cli.Context) error {
					_, cs, _, err := openCrypt(c)
					if err != nil {
						return err
					}
					keys, err := cs.Keys(c.Context)
					if err != nil {
						return err
					}
					for _, k := range keys {
						if k.Problem != "" {
							fmt.Fprintf(c.App.Writer, "! %s  unusable: %s (pstsync key remove %s removes it)\n", k.ID, k.Problem, k.ID)
							continue
						}
						mark := " "
						if k.ID == cs.KeyID() {
							mark = "*"
						}
						fmt.Fprintf(c.App.Writer, "%s %s  %-12s %-16s %s\n", mark, k.ID, k.User, k.Host, k.Created.Local().Format(time.DateTime))
					}
					return nil
				},
			},
			&cli.Command{
				Name:  "add",
				Usage: "add a passphrase (a colleague's own, or the next one before a rotation)",
				Flags: append(storeFlags(), newPassphraseFlag),
				Action: func(c *cli.Context) error {
					cfg, cs, pass, np, err := openCryptNew(c)
					if err != nil {
						return err
					}
					id, err := cs.AddKey(c.Context, pass, np, keyInfo(cfg), storeKDF())
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "key %s added\n", id)
					return nil
				},
			},
			&cli.Command{
				Name:      "remove",
				Usage:     "remove a key file (not the one in use, never the last)",
				ArgsUsage: "ID",
				Flags:     storeFlags(),
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageError{fmt.Errorf("key remove takes one key ID (pstsync key list shows them)")}
					}
					_, cs, _, err := openCrypt(c)
					if err != nil {
						return err
					}
					if err := cs.RemoveKey(c.Context, c.Args().First()); err != nil {
						return usageError{err}
					}
					fmt.Fprintf(c.App.Writer, "key %s removed\n", c.Args().First())
					return nil
				},
			},
			&cli.Command{
				Name:  "passwd",
				Usage: "change the configured passphrase (its key file is replaced)",
				Flags: append(storeFlags(), newPassphraseFlag),
				Action: func(c *cli.Context) error {
					cfg, cs, pass, np, err := openCryptNew(c)
					if err != nil {
						return err
					}
					old := cs.KeyID()
					id, err := cs.ChangePassphrase(c.Context, pass, np, keyInfo(cfg), storeKDF())
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "key %s replaced by key %s; put the new passphrase in your config file, PSTSYNC_PASSPHRASE or passphrase_file\n", old, id)
					return nil
				},
			},
		),
	}
}

// flagsCtx is the context that holds a subcommand's flags: interspersed
// puts them before the subcommand, where its parent (key, store), which
// has the same flags, parses them.
func flagsCtx(c *cli.Context) *cli.Context {
	if l := c.Lineage(); len(l) > 1 && l[1].Command != nil && len(l[1].Command.Flags) > 0 {
		return l[1]
	}
	return c
}
