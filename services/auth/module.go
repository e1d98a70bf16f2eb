package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/config"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/auth/store/sqlite"
)

// Config is the auth service's configuration, read from the environment.
type Config struct {
	AccessTTL           time.Duration
	RefreshTTL          time.Duration
	SigningKey          string
	PreviousSigningKeys []string
	SMTPURL             string
	MailFrom            string
	LoginWindow         time.Duration
	LoginMaxPerAccount  int64
	LoginMaxPerIP       int64
}

// Register declares the auth service's variables. production says whether the process runs in
// production mode, where a configured signing key is required.
func (c *Config) Register(s *config.Set, production *bool) {
	s.DurationVar(&c.AccessTTL, "AUTH_ACCESS_TOKEN_TTL", 15*time.Minute, "lifetime of access tokens")
	s.DurationVar(&c.RefreshTTL, "AUTH_REFRESH_TOKEN_TTL", 30*24*time.Hour, "lifetime of a session's refresh token (renewed on each refresh)")
	s.StringVar(&c.SigningKey, "AUTH_SIGNING_KEY", "", "base64 Ed25519 seed (32 bytes) that signs tokens; required in production, generated into DATA_DIR otherwise")
	s.ListVar(&c.PreviousSigningKeys, "AUTH_PREVIOUS_SIGNING_KEYS", "", "comma-separated base64 seeds of rotated-out keys whose tokens must still verify")
	s.StringVar(&c.SMTPURL, "SMTP_URL", "", "smtp://user:password@host:port for outgoing mail; when empty, mail is written to DATA_DIR/outbox")
	s.StringVar(&c.MailFrom, "MAIL_FROM", "FuzzyLlama <no-reply@fuzzyllama.local>", "sender of outgoing mail")
	s.DurationVar(&c.LoginWindow, "AUTH_LOGIN_LOCKOUT_WINDOW", 15*time.Minute, "window in which failed logins are counted")
	s.Int64Var(&c.LoginMaxPerAccount, "AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, "failed logins per account within the window before a 429")
	s.Int64Var(&c.LoginMaxPerIP, "AUTH_LOGIN_MAX_FAILURES_PER_IP", 30, "failed logins per client IP within the window before a 429")
	s.Check(func() error {
		if *production && c.SigningKey == "" {
			return config.Errorf("AUTH_SIGNING_KEY", "is required in production (generate one with: head -c32 /dev/urandom | base64)")
		}
		return nil
	})
	s.Check(func() error {
		if c.SigningKey == "" {
			return nil
		}
		if _, err := authn.ParseSeed(c.SigningKey); err != nil {
			return config.Errorf("AUTH_SIGNING_KEY", "%v", err) // the message never contains the key
		}
		return nil
	})
	s.Check(func() error {
		if c.SMTPURL == "" {
			return nil
		}
		if u, err := url.Parse(c.SMTPURL); err != nil || u.Scheme != "smtp" || !smtpAddrValid(u) {
			return config.Errorf("SMTP_URL", "must look like smtp://user:password@host:587")
		}
		return nil
	})
	s.Check(func() error {
		var errs []error
		if c.LoginWindow < time.Second {
			errs = append(errs, config.Errorf("AUTH_LOGIN_LOCKOUT_WINDOW", "must be at least 1s (it is how long failed logins are counted)"))
		}
		if c.LoginMaxPerAccount < 1 {
			errs = append(errs, config.Errorf("AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT", "must be at least 1 (with 0, every login would be refused)"))
		}
		if c.LoginMaxPerIP < 1 {
			errs = append(errs, config.Errorf("AUTH_LOGIN_MAX_FAILURES_PER_IP", "must be at least 1 (with 0, every login would be refused)"))
		}
		return errors.Join(errs...)
	})
	s.Check(func() error {
		if c.AccessTTL < time.Minute || c.RefreshTTL <= c.AccessTTL {
			return config.Errorf("AUTH_ACCESS_TOKEN_TTL", "must be at least 1m and shorter than AUTH_REFRESH_TOKEN_TTL")
		}
		return nil
	})
}

// OpenStore opens PostgreSQL when databaseURL is set, otherwise SQLite at dataDir/auth.db.
func OpenStore(ctx context.Context, databaseURL, dataDir string) (store.Store, error) {
	if databaseURL != "" {
		return postgres.Open(ctx, databaseURL)
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, "auth.db"))
}

// Deps are the auth service's collaborators, built by the process.
type Deps struct {
	Store   store.Store
	Redis   *redis.Client
	Keys    redisx.Keyspace
	Keyring *Keyring
	Logger  *slog.Logger
	// DataDir holds the mail outbox when no SMTP server is configured.
	DataDir string
	// FrontendURL is where the web app is served; reset links point into it.
	FrontendURL string
	// Revocations is the process's list of ended sessions, shared with the process's verifiers
	// so that they know of a revocation at once (its Source must be the service's
	// RevokedSessions); nil makes one of the service's own, which the caller loads.
	Revocations *authn.Revocations
}

// NewService builds the domain service.
func NewService(cfg Config, d Deps) (*Service, error) {
	var mailer Mailer = OutboxMailer{Dir: filepath.Join(d.DataDir, "outbox"), From: cfg.MailFrom, Logger: d.Logger}
	if cfg.SMTPURL != "" {
		u, err := url.Parse(cfg.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("SMTP_URL: %w", err)
		}
		mailer = SMTPMailer{URL: u, From: cfg.MailFrom}
	}
	dummy, err := hashPassword("timing-equaliser-not-a-password")
	if err != nil {
		return nil, err
	}
	svc := &Service{
		Store:       d.Store,
		Sessions:    &Sessions{Redis: d.Redis, Keys: d.Keys, TTL: cfg.RefreshTTL, ReuseGrace: refreshReuseGrace},
		Revocations: d.Revocations,
		Throttle: &LoginThrottle{Redis: d.Redis, Keys: d.Keys, Window: cfg.LoginWindow,
			MaxPerAccount: cfg.LoginMaxPerAccount, MaxPerIP: cfg.LoginMaxPerIP},
		Keys:       d.Keyring,
		Mailer:     mailer,
		Logger:     d.Logger,
		Issuer:     authn.Issuer,
		Audience:   authn.Audience,
		AccessTTL:  cfg.AccessTTL,
		RefreshTTL: cfg.RefreshTTL,
		ResetURL:   d.FrontendURL + "/reset-password",
		dummyHash:  dummy,
		hashing:    newHashLimiter(2*runtime.GOMAXPROCS(0), hashWait),
	}
	if svc.Revocations == nil {
		// Loaded and watched by whoever runs it; its durable source is this service's store.
		svc.Revocations = &authn.Revocations{Redis: d.Redis, Keys: d.Keys, Source: svc.RevokedSessions}
	}
	return svc, nil
}

const (
	// refreshReuseGrace: see Sessions.ReuseGrace. Short, because within it a copied refresh
	// token presented right after a rotation is not detected as reuse (it is on the next one).
	refreshReuseGrace = 5 * time.Second
	// hashWait is how long a password check or hash waits for one of the 2×GOMAXPROCS argon2id
	// slots (each 19 MiB, so at most ~40 MiB per core) before a 429: argon2id is CPU-bound, so
	// more in flight would not finish sooner.
	hashWait = 2 * time.Second
)

// RegisterGRPC registers the AuthService on s.
func RegisterGRPC(s grpc.ServiceRegistrar, svc *Service) {
	authv1.RegisterAuthServiceServer(s, &Handler{Service: svc})
}
