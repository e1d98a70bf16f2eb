package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	// Our proxies: anything in 10.0.0.0/8, and one IPv6 load balancer.
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::1/128")}
	tests := []struct {
		name   string
		peer   string   // r.RemoteAddr
		xff    []string // X-Forwarded-For header lines
		want   string
		wantOK bool
	}{
		{"direct client", "203.0.113.7:5555", nil, "203.0.113.7", true},
		{"untrusted peer cannot spoof", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7", true},
		{"untrusted peer cannot pose as a proxy", "203.0.113.7:5555", []string{"198.51.100.1, 10.0.0.2"}, "203.0.113.7", true},
		{"trusted proxy without header", "10.0.0.2:80", nil, "10.0.0.2", true},
		{"client behind one proxy", "10.0.0.2:80", []string{"198.51.100.1"}, "198.51.100.1", true},
		{"client behind two proxies", "10.0.0.2:80", []string{"198.51.100.1, 10.1.2.3"}, "198.51.100.1", true},
		{"forged entries left of the client are ignored", "10.0.0.2:80", []string{"1.1.1.1, 8.8.8.8, 198.51.100.1"}, "198.51.100.1", true},
		{"forged trusted address left of the client", "10.0.0.2:80", []string{"10.9.9.9, 198.51.100.1"}, "198.51.100.1", true},
		{"several header lines read as one list", "10.0.0.2:80", []string{"1.1.1.1", "198.51.100.1, 10.0.0.3"}, "198.51.100.1", true},
		{"all hops trusted: leftmost", "10.0.0.2:80", []string{"10.0.0.4, 10.0.0.3"}, "10.0.0.4", true},
		{"malformed entry stops the walk", "10.0.0.2:80", []string{"198.51.100.1, nonsense, 10.0.0.3"}, "10.0.0.3", true},
		{"entry with a port is malformed", "10.0.0.2:80", []string{"198.51.100.1:4444"}, "10.0.0.2", true},
		{"empty entry is malformed", "10.0.0.2:80", []string{"198.51.100.1,"}, "10.0.0.2", true},
		{"IPv4-mapped peer is IPv4", "[::ffff:10.0.0.2]:80", []string{"198.51.100.1"}, "198.51.100.1", true},
		{"IPv4-mapped client is IPv4", "10.0.0.2:80", []string{"::ffff:198.51.100.1"}, "198.51.100.1", true},
		{"IPv6 proxy and client", "[2001:db8::1]:443", []string{"2001:db8:beef::9"}, "2001:db8:beef::9", true},
		{"IPv6 neighbour of the proxy is untrusted", "[2001:db8::2]:443", []string{"198.51.100.1"}, "2001:db8::2", true},
		{"peer that is not an address", "@", []string{"198.51.100.1"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got netip.Addr
			var ok bool
			h := ClientIP(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, ok = ClientIPFromContext(r.Context())
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)

			if ok != tt.wantOK || (ok && got.String() != tt.want) {
				t.Errorf("client = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestClientIPFromContextWithoutMiddleware(t *testing.T) {
	if a, ok := ClientIPFromContext(httptest.NewRequest(http.MethodGet, "/", nil).Context()); ok {
		t.Errorf("got %v without ClientIP", a)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		csv     string
		want    []string
		wantErr string // substring; "" = no error
	}{
		{"", nil, ""},
		{" , ", nil, ""},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, ""},
		{"10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1", []string{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8", "::1/128"}, ""},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, ""},
		{"::ffff:192.168.1.7", []string{"192.168.1.7/32"}, ""},
		{"10.0.0.0/8, 10.0.0.0/33", nil, `"10.0.0.0/33"`},
		{"10.0.0.1, proxy.internal", nil, `"proxy.internal"`},
		{"300.1.1.1", nil, `"300.1.1.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.csv, func(t *testing.T) {
			got, err := ParseTrustedProxies(tt.csv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotS []string
			for _, p := range got {
				gotS = append(gotS, p.String())
			}
			if !slices.Equal(gotS, tt.want) {
				t.Errorf("prefixes = %v, want %v", gotS, tt.want)
			}
		})
	}
}
