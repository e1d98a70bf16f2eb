package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mail is one plain-text message.
type Mail struct {
	To, Subject, Body string
}

// Mailer delivers mail.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// SMTPMailer sends through an SMTP server given as smtp://[user:password@]host:port; the
// connection is upgraded with STARTTLS when the server offers it.
type SMTPMailer struct {
	URL  *url.URL
	From string
}

// Send implements Mailer.
func (m SMTPMailer) Send(_ context.Context, msg Mail) error {
	host := m.URL.Hostname()
	var a smtp.Auth
	if u := m.URL.User; u != nil {
		pass, _ := u.Password()
		a = smtp.PlainAuth("", u.Username(), pass, host)
	}
	return smtp.SendMail(m.URL.Host, a, m.From, []string{msg.To}, render(m.From, msg))
}

// OutboxMailer writes each message as an .eml file into Dir instead of sending it, so that the
// embedded default (no SMTP server) can still complete flows such as password reset: open the
// newest file in the outbox. The log line names the file, never its content.
type OutboxMailer struct {
	Dir    string
	From   string
	Logger *slog.Logger
}

// Send implements Mailer.
func (m OutboxMailer) Send(ctx context.Context, msg Mail) error {
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := filepath.Join(m.Dir, time.Now().UTC().Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(b[:])+".eml")
	if err := os.WriteFile(name, render(m.From, msg), 0o600); err != nil {
		return err
	}
	m.Logger.InfoContext(ctx, "mail written to the local outbox (no SMTP_URL configured)", "file", name, "subject", msg.Subject)
	return nil
}

func render(from string, m Mail) []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		from, m.To, m.Subject, time.Now().UTC().Format(time.RFC1123Z))
	sb.WriteString(strings.ReplaceAll(m.Body, "\n", "\r\n"))
	return []byte(sb.String())
}

// smtpAddrValid reports whether u names an SMTP server host:port.
func smtpAddrValid(u *url.URL) bool {
	_, port, err := net.SplitHostPort(u.Host)
	return err == nil && port != "" && u.Hostname() != ""
}
