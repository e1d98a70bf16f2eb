package auth

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fakeSMTP serves one SMTP conversation on a local port (no STARTTLS, no AUTH) and sends the
// commands it received, then the message, on the returned channel.
func fakeSMTP(t *testing.T) (addr string, got <-chan []string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	out := make(chan []string, 1)
	go func() {
		conn, err := lis.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		say := func(s string) { _, _ = conn.Write([]byte(s + "\r\n")) }
		var lines []string
		say("220 fake ESMTP")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			lines = append(lines, line)
			switch verb, _, _ := strings.Cut(line, " "); strings.ToUpper(verb) {
			case "EHLO":
				say("250-fake")
				say("250 8BITMIME")
			case "DATA":
				say("354 go ahead")
				var body []string
				for l, _ := r.ReadString('\n'); l != ".\r\n" && l != ""; l, _ = r.ReadString('\n') {
					body = append(body, l)
				}
				lines = append(lines, strings.Join(body, ""))
				say("250 queued")
			case "QUIT":
				say("221 bye")
				out <- lines
				return
			default:
				say("250 ok")
			}
		}
	}()
	return lis.Addr().String(), out
}

func TestSMTPMailerSends(t *testing.T) {
	addr, got := fakeSMTP(t)
	m := SMTPMailer{URL: &url.URL{Scheme: "smtp", Host: addr}, From: "FuzzyLlama <no-reply@fuzzyllama.local>"}
	if err := m.Send(context.Background(), Mail{To: "ann@example.com", Subject: "Hi", Body: "Hello\n"}); err != nil {
		t.Fatal(err)
	}
	lines := <-got
	// The envelope sender is the bare address: "MAIL FROM:<Name <address>>" is refused by real servers.
	for _, want := range []string{"MAIL FROM:<no-reply@fuzzyllama.local>", "RCPT TO:<ann@example.com>"} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("conversation lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	if msg := lines[len(lines)-2]; !strings.Contains(msg, "Subject: Hi\r\n") || !strings.Contains(msg, "\r\n\r\nHello\r\n") {
		t.Errorf("message:\n%s", msg)
	}
}

// TestSMTPMailerHonoursTheContext: a server that accepts and then never answers must not hold
// the sender (and the shutdown waiting for it) forever.
func TestSMTPMailerHonoursTheContext(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // silent until the test ends
		}
	}()
	m := SMTPMailer{URL: &url.URL{Scheme: "smtp", Host: lis.Addr().String()}, From: "no-reply@fuzzyllama.local"}
	for name, tc := range map[string]struct {
		ctxTimeout, mailerTimeout time.Duration
	}{
		"context deadline": {200 * time.Millisecond, 0},
		"mailer timeout":   {time.Minute, 200 * time.Millisecond},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), tc.ctxTimeout)
		m.Timeout = tc.mailerTimeout
		start := time.Now()
		err := m.Send(ctx, Mail{To: "ann@example.com", Subject: "Hi", Body: "Hello"})
		cancel()
		if err == nil || time.Since(start) > 5*time.Second {
			t.Errorf("%s: Send = %v after %v, want an error within the timeout", name, err, time.Since(start))
		}
	}
}
