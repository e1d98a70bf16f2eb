package gitexport

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheckRemoteURL(t *testing.T) {
	t.Parallel()
	strict, withHTTP := Policy{}, Policy{AllowHTTP: true}
	cases := []struct {
		url    string
		policy Policy
		ok     bool
	}{
		{"https://github.com/owner/repo.git", strict, true},
		{"https://github.com/owner/repo", strict, true},
		{"https://git.example.com:8443/team/docs.git", strict, true},
		{"https://ghe.example.com/api/../owner/repo.git", strict, true},
		{"HTTPS://github.com/owner/repo.git", strict, true},
		{"http://git.example.com/owner/repo.git", strict, false},
		{"http://git.example.com/owner/repo.git", withHTTP, true},
		{"https://x-access-token:secret@github.com/owner/repo.git", strict, false},
		{"https://user@github.com/owner/repo.git", strict, false},
		{"https://github.com/owner/repo.git?token=secret", strict, false},
		{"https://github.com/owner/repo.git?", strict, false},
		{"https://github.com/owner/repo.git#main", strict, false},
		{"https://github.com/owner/repo.git#", strict, false},
		{"ftp://github.com/owner/repo.git", strict, false},
		{"file:///srv/git/repo.git", strict, false},
		{"ssh://git@github.com/owner/repo.git", strict, false},
		{"git://github.com/owner/repo.git", strict, false},
		{"git@github.com:owner/repo.git", strict, false},
		{"/srv/git/repo.git", strict, false},
		{"https:///owner/repo.git", strict, false},
		{"https://:443/owner/repo.git", strict, false},
		{"https://github.com:0/owner/repo.git", strict, false},
		{"https://github.com:99999/owner/repo.git", strict, false},
		{"", strict, false},
		// Address literals are checked against the policy right away.
		{"https://127.0.0.1/repo.git", strict, false},
		{"https://[::1]/repo.git", strict, false},
		{"https://169.254.169.254/latest/meta-data", strict, false},
		{"https://10.0.0.8/repo.git", strict, false},
		{"https://127.0.0.1/repo.git", Policy{AllowPrivateNetworks: true}, true},
		{"https://140.82.112.3/owner/repo.git", strict, true},
	}
	for _, c := range cases {
		err := CheckRemoteURL(c.url, c.policy)
		if c.ok && err != nil {
			t.Errorf("CheckRemoteURL(%q, %+v) = %v, want ok", c.url, c.policy, err)
		}
		if !c.ok && !errors.Is(err, ErrInvalidRemoteURL) {
			t.Errorf("CheckRemoteURL(%q, %+v) = %v, want ErrInvalidRemoteURL", c.url, c.policy, err)
		}
	}
}

func TestPolicyAllowsOnlyPublicAddresses(t *testing.T) {
	t.Parallel()
	refused := []string{
		"127.0.0.1", "127.8.9.10", "::1",
		"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fd12:3456::1",
		"169.254.169.254", "169.254.1.1", "fe80::1",
		"0.0.0.0", "0.1.2.3", "::",
		"224.0.0.1", "239.255.255.250", "ff02::1",
		"100.64.0.1", "100.127.255.254",
		"255.255.255.255", "240.0.0.1", "192.0.0.170", "198.18.0.1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
	}
	allowed := []string{"140.82.112.3", "8.8.8.8", "100.128.0.1", "172.32.0.1", "198.20.0.1", "2606:4700::1111"}

	for _, s := range refused {
		addr := netip.MustParseAddr(s)
		if (Policy{}).allows(addr) {
			t.Errorf("the strict policy allows %s", s)
		}
		if !(Policy{AllowPrivateNetworks: true}).allows(addr) {
			t.Errorf("AllowPrivateNetworks refuses %s", s)
		}
	}
	for _, s := range allowed {
		if !(Policy{}).allows(netip.MustParseAddr(s)) {
			t.Errorf("the strict policy refuses the public address %s", s)
		}
	}
}
