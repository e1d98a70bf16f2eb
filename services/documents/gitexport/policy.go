package gitexport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	// ErrInvalidRemoteURL wraps every error CheckRemoteURL returns (Push
	// checks the URL first, so its refusals carry it too).
	ErrInvalidRemoteURL = errors.New("gitexport: invalid remote URL")
	// ErrRemoteRefused is returned by Push when the policy stops a
	// connection after the URL itself passed: the host resolved to an
	// address the policy does not allow, or the remote redirected somewhere
	// it may not.
	ErrRemoteRefused = errors.New("gitexport: remote refused by policy")
	// ErrUnreachable is returned by Push when no connection to the remote
	// could be made: its host name did not resolve, or every address refused
	// or timed out. The wrapped text is for logs only: it can name the
	// addresses the host resolves to and the server's DNS resolver.
	ErrUnreachable = errors.New("gitexport: the remote could not be reached")
)

// Policy says which remotes may be reached. The remote URL comes from a user,
// so this is what stops an export from being aimed at the service's own
// network (SSRF). The zero Policy is the strict one: https only, public
// addresses only.
type Policy struct {
	// AllowHTTP permits plain http:// remotes (tests, local forges);
	// otherwise https only.
	AllowHTTP bool
	// AllowPrivateNetworks permits addresses that are not on the public
	// internet: loopback, private (RFC 1918, fc00::/7), link-local
	// (including the 169.254.169.254 cloud metadata endpoint), unspecified,
	// multicast, carrier-grade NAT (100.64.0.0/10), "this network"
	// (0.0.0.0/8), and the IETF, benchmarking and reserved ranges
	// (192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4). Otherwise they are
	// refused.
	AllowPrivateNetworks bool
}

// CheckRemoteURL validates a remote URL against the policy before any network
// use. It wants an absolute https (or, if allowed, http) URL with a host and
// nothing that could carry a secret or change meaning: no user info (a token
// in the URL would end up stored and logged), no query, no fragment. A host
// written as an IP address is checked against the policy here; a host name is
// checked when Push dials it, against the addresses it actually resolves to.
func CheckRemoteURL(raw string, p Policy) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidRemoteURL, fmt.Sprintf(format, args...))
	}
	if raw == "" {
		return bad("the remote URL is empty")
	}
	if !strings.Contains(raw, "://") {
		return bad("the remote URL must start with https:// (scp-like addresses such as git@host:owner/repo.git are not supported)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("the remote URL cannot be parsed")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return bad("the remote URL must use https, not plain http")
		}
	default:
		return bad("the remote URL must use https, not %q", u.Scheme)
	}
	if u.User != nil {
		return bad("the remote URL may not contain a user name or password; the token is sent separately")
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#") {
		return bad("the remote URL may not have a query (?...) or fragment (#...)")
	}
	host := u.Hostname()
	if host == "" {
		return bad("the remote URL has no host")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("the remote URL has an invalid port %q", port)
		}
	}
	if addr, err := netip.ParseAddr(host); err == nil && !p.allows(addr) {
		return bad("the remote URL points at a private or reserved network address")
	}
	return nil
}

// nonPublic lists the ranges netip's predicates do not cover that must not
// be reachable from a user-supplied URL.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"; Linux routes 0.x to the local host
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and the broadcast address
}

// allows reports whether the policy lets Push connect to addr.
func (p Policy) allows(addr netip.Addr) bool {
	if p.AllowPrivateNetworks {
		return true
	}
	addr = addr.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsLinkLocalUnicast() || addr.IsMulticast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() {
		return false
	}
	for _, prefix := range nonPublic {
		if prefix.Contains(addr) {
			return false
		}
	}
	return true
}

// Timeouts for one push. A whole push has no deadline of its own (a big
// history takes a while to upload); the caller's context bounds it.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	maxRedirects          = 3
	// A remote's answers are read with these caps: go-git reads the whole body of an error
	// answer (and of the advertised refs) into memory, and the remote is anyone's server.
	maxErrorBody    = 64 << 10
	maxResponseBody = 32 << 20
)

// guard enforces a Policy on every connection and redirect of one push and
// remembers the first refusal, so Push can report it as ErrRemoteRefused:
// go-git wraps transport errors in a type that errors.Is cannot see through.
type guard struct {
	policy Policy

	mu      sync.Mutex
	refusal error
	dialErr error // the first failed dial, refusals aside
}

func (g *guard) refuse(format string, args ...any) error {
	err := fmt.Errorf("%w: %s", ErrRemoteRefused, fmt.Sprintf(format, args...))
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refusal == nil {
		g.refusal = err
	}
	return err
}

func (g *guard) refused() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.refusal
}

// dial connects through dialer and remembers the first failure (a name that
// does not resolve, a refused or timed-out connection), so Push can report it
// as ErrUnreachable: go-git's wrapping hides it from errors.As.
func (g *guard) dial(dialer *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			g.mu.Lock()
			if g.dialErr == nil {
				g.dialErr = err
			}
			g.mu.Unlock()
		}
		return conn, err
	}
}

func (g *guard) unreachable() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dialErr
}

// control runs after DNS resolution, just before each connect, with the IP
// actually being dialed; checking here rather than at URL parse time means a
// host name that resolves (or re-resolves, as in DNS rebinding) to a private
// address is still refused.
func (g *guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return g.refuse("cannot check the address %q", address)
	}
	if !g.policy.allows(ap.Addr()) {
		return g.refuse("the remote host resolved to %s, a private or reserved address", ap.Addr())
	}
	return nil
}

// checkRedirect refuses a redirect that changes scheme (which would at best
// downgrade https to http) and caps the chain. go-git runs this alongside its
// own redirect rules, and every hop is dialed through control anyway.
func (g *guard) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return g.refuse("the remote redirected more than %d times", maxRedirects)
	}
	if from := via[0].URL.Scheme; !strings.EqualFold(req.URL.Scheme, from) {
		return g.refuse("the remote redirected from %s to %s://%s", from, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// httpClient returns an HTTP client used for one push only. Each push gets
// its own transport so that a connection opened under one policy is never
// reused under another.
func (g *guard) httpClient() *http.Client {
	dialer := &net.Dialer{Timeout: dialTimeout, Control: g.control}
	return &http.Client{
		Transport: cappedBodies{&http.Transport{
			// No proxy: through a proxy, control would check the proxy's
			// address rather than the remote's.
			Proxy:                 nil,
			DialContext:           g.dial(dialer),
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   tlsHandshakeTimeout,
			ResponseHeaderTimeout: responseHeaderTimeout,
			IdleConnTimeout:       30 * time.Second,
		}},
		CheckRedirect: g.checkRedirect,
	}
}

// errBodyTooLarge ends the read of a remote's answer past its cap.
var errBodyTooLarge = errors.New("the remote's answer is larger than any git server sends")

// cappedBodies caps the bodies of the responses its transport returns: maxErrorBody for an
// error status, maxResponseBody otherwise, so a hostile remote cannot make a push hold
// unbounded memory.
type cappedBodies struct{ next http.RoundTripper }

func (c cappedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	limit := int64(maxResponseBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: limit}
	return resp, nil
}

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
