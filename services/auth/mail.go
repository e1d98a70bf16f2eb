package auth

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
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
// connection is upgraded with STARTTLS when the server offers it (and PLAIN auth refuses to send
// credentials without it, except to localhost).
type SMTPMailer struct {
	URL  *url.URL
	From string
	// Timeout bounds one delivery (dial to QUIT) unless ctx ends sooner; zero means
	// smtpTimeout. A server that stops answering must not hold a goroutine forever.
	Timeout time.Duration
}

const smtpTimeout = 30 * time.Second

// Send implements Mailer.
func (m SMTPMailer) Send(ctx context.Context, msg Mail) error {
	// The envelope sender is the bare address; From may be "Name <address>".
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("MAIL_FROM: %w", err)
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = smtpTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.URL.Host)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	// The deadline covers the whole conversation; closing the connection also ends it early
	// when ctx is cancelled.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if err := m.deliver(conn, from.Address, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smtp: %w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// deliver speaks SMTP over conn, as smtp.SendMail does.
func (m SMTPMailer) deliver(conn net.Conn, from string, msg Mail) error {
	host := m.URL.Hostname()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if u := m.URL.User; u != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("server does not support AUTH")
		}
		pass, _ := u.Password()
		if err := c.Auth(smtp.PlainAuth("", u.Username(), pass, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(msg.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(render(m.From, msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
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
