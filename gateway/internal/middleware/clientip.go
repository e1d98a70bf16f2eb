package middleware

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

type clientIPKey struct{}

// ClientIP finds the address of the client and puts it in the request context, where
// ClientIPFromContext reads it.
//
// The client is the TCP peer (r.RemoteAddr), unless the peer is inside one of the trusted
// prefixes (our own load balancers and proxies). Then X-Forwarded-For, all of its values read
// as one comma-separated list, is walked from right to left, skipping trusted addresses: the
// first untrusted address is the client. Only the right end of the list was written by our
// proxies; anything to its left came from the client and may be forged, which is why the walk
// stops at the first untrusted address, and also at the first entry that is not a bare IP
// address, leaving the last good address as the client. X-Forwarded-For from an untrusted
// peer is ignored entirely.
//
// IPv4-mapped IPv6 addresses are reported as IPv4, and zones are dropped.
func ClientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			client, ok := peerAddr(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			if isTrusted(client) {
				hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
					if err != nil {
						break
					}
					client = normalize(a)
					if !isTrusted(client) {
						break
					}
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, client)))
		})
	}
}

// ClientIPFromContext returns the client address found by ClientIP; ok is false when ClientIP
// did not run or r.RemoteAddr was not an address.
func ClientIPFromContext(ctx context.Context) (netip.Addr, bool) {
	a, ok := ctx.Value(clientIPKey{}).(netip.Addr)
	return a, ok
}

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes and bare IP addresses
// (a single host), such as "10.0.0.0/8, 192.168.1.7, fd00::/8". Empty entries are ignored.
func ParseTrustedProxies(csv string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for entry := range strings.SplitSeq(csv, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parsePrefix(entry)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: bad entry %q: %w", entry, err)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

// parsePrefix parses a CIDR prefix, or a bare address as the prefix holding only it.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = normalize(a)
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// peerAddr returns the address of the TCP peer of r.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return normalize(ap.Addr()), true
}

// normalize makes addresses comparable with prefixes: netip.Prefix.Contains is false for an
// IPv4-mapped address against an IPv4 prefix, and for any address with a zone.
func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}
