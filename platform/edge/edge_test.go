package edge

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func TestClientIP(t *testing.T) {
	withMD := func(ip string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs(ClientIPKey, ip))
	}
	withPeer := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 5555}})
	cases := []struct {
		ctx  context.Context
		want string
	}{
		{withMD("203.0.113.9"), "203.0.113.9"},
		{withMD("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64"},
		{withMD("::ffff:198.51.100.1"), "198.51.100.1"},
		{withMD("not an ip"), ""},
		{withPeer, "192.0.2.7"}, // direct gRPC caller: the TCP peer, port dropped
		{context.Background(), ""},
	}
	for _, c := range cases {
		if got := ClientIP(c.ctx); got != c.want {
			t.Errorf("ClientIP = %q, want %q", got, c.want)
		}
	}
}
