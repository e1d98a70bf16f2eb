// Package config reads configuration from environment variables, the way package flag reads
// command-line flags: each component declares its variables (name, default, help) on a shared
// Set, the process parses the environment once, and every problem — a malformed value or a
// failed check — is reported together, each naming its variable. Usage lists every variable with
// its default for --help.
//
// It is built on flag.FlagSet, so any flag.Value (and the standard typed helpers) can be a
// variable; only the source of values differs.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Set is a set of environment variables.
type Set struct {
	fs     *flag.FlagSet
	checks []func() error
	set    map[string]bool
}

// NewSet returns an empty set.
func NewSet() *Set {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &Set{fs: fs, set: map[string]bool{}}
}

// StringVar declares a string variable stored in p.
func (s *Set) StringVar(p *string, name, def, help string) { s.fs.StringVar(p, name, def, help) }

// IntVar declares an integer variable stored in p.
func (s *Set) IntVar(p *int, name string, def int, help string) { s.fs.IntVar(p, name, def, help) }

// Int64Var declares a 64-bit integer variable stored in p.
func (s *Set) Int64Var(p *int64, name string, def int64, help string) {
	s.fs.Int64Var(p, name, def, help)
}

// BoolVar declares a boolean variable (1, 0, t, f, true, false) stored in p.
func (s *Set) BoolVar(p *bool, name string, def bool, help string) {
	s.fs.BoolVar(p, name, def, help)
}

// DurationVar declares a duration variable ("15m", "720h") stored in p.
func (s *Set) DurationVar(p *time.Duration, name string, def time.Duration, help string) {
	s.fs.DurationVar(p, name, def, help)
}

// ListVar declares a comma-separated list stored in p; empty items are dropped.
func (s *Set) ListVar(p *[]string, name, def, help string) {
	l := (*list)(p)
	_ = l.Set(def)
	s.fs.Var(l, name, help)
}

// Var declares a variable of any flag.Value type; v holds the default.
func (s *Set) Var(v flag.Value, name, help string) { s.fs.Var(v, name, help) }

// Check adds a validation run after parsing; a non-nil error is reported with the others. Use
// Errorf to name the variable in the message.
func (s *Set) Check(check func() error) { s.checks = append(s.checks, check) }

// IsSet reports whether the variable was given a value by the environment.
func (s *Set) IsSet(name string) bool { return s.set[name] }

// Errorf formats an error about one variable: "NAME: message".
func Errorf(name, format string, args ...any) error {
	return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
}

// Parse reads every declared variable through lookup (os.LookupEnv in production) and then runs
// the checks. It returns all problems joined, or nil.
func (s *Set) Parse(lookup func(string) (string, bool)) error {
	var errs []error
	s.fs.VisitAll(func(f *flag.Flag) {
		v, ok := lookup(f.Name)
		if !ok {
			return
		}
		s.set[f.Name] = true
		if err := f.Value.Set(strings.TrimSpace(v)); err != nil {
			// Only typed (non-string) variables can fail to parse, so echoing the value
			// cannot leak a secret.
			errs = append(errs, Errorf(f.Name, "invalid value %q: %v", v, err))
		}
	})
	if len(errs) > 0 { // checks would only repeat the parse failures
		return errors.Join(errs...)
	}
	for _, c := range s.checks {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Usage writes every variable, sorted, with its default and help text.
func (s *Set) Usage(w io.Writer) {
	var flags []*flag.Flag
	s.fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tDESCRIPTION")
	for _, f := range flags {
		def := f.DefValue
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, def, f.Usage)
	}
	_ = tw.Flush()
}

// CheckURL returns an error naming the variable unless raw is an absolute URL with one of the
// schemes. An empty value is accepted: say so with a separate required check.
func CheckURL(name, raw string, schemes ...string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return Errorf(name, "must be an absolute URL such as %s://host, got %q", schemes[0], redactURL(raw))
	}
	for _, sc := range schemes {
		if u.Scheme == sc {
			return nil
		}
	}
	return Errorf(name, "scheme must be one of %s, got %q", strings.Join(schemes, ", "), u.Scheme)
}

// redactURL hides a password in a URL that is echoed back in an error.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
	}
	if i := strings.Index(raw, "@"); i >= 0 {
		return "<redacted>" + raw[i:]
	}
	return raw
}

type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(v string) error {
	*l = (*l)[:0]
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}
