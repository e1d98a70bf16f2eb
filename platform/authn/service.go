package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
)

// MinServiceCredentialLen is the shortest shared service credential accepted: it is the only
// thing standing between the network and delegated tokens, so it must not be guessable.
const MinServiceCredentialLen = 32

// CredentialMatches compares a presented service credential with the configured one in constant
// time (of the hashes, so even the length does not leak).
func CredentialMatches(presented, configured string) bool {
	if configured == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(configured))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// ServiceTokens gives a service delegated access tokens for the users it does background work
// for, from the auth service, cached until shortly before they expire.
type ServiceTokens struct {
	Client     authv1.AuthServiceClient
	Service    string // the calling service's name: the tokens' actor
	Credential string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	tokens map[string]serviceToken // by user id
	group  singleflight.Group
}

type serviceToken struct {
	token  string
	expiry time.Time
}

// renewBefore is how long before expiry a cached token is replaced, so that a call never
// leaves with a token about to expire on the way.
const renewBefore = time.Minute

// maxCachedServiceTokens bounds the cache; when full it starts over (a miss costs one RPC).
const maxCachedServiceTokens = 10000

// ErrNoServiceCredential: the process has no service credential configured.
var ErrNoServiceCredential = errors.New("authn: no service credential configured")

// For returns ctx carrying the identity of the service acting for userID, so that calls made
// with it through a grpcx client are authorised as the user, delegated.
func (s *ServiceTokens) For(ctx context.Context, userID string) (context.Context, error) {
	token, err := s.token(ctx, userID)
	if err != nil {
		return nil, err
	}
	return NewContext(ctx, Identity{UserID: userID, SessionID: ServiceSessionPrefix + s.Service, Actor: s.Service, Token: token}), nil
}

func (s *ServiceTokens) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *ServiceTokens) token(ctx context.Context, userID string) (string, error) {
	if s.Credential == "" {
		return "", ErrNoServiceCredential
	}
	s.mu.Lock()
	t, ok := s.tokens[userID]
	s.mu.Unlock()
	if ok && s.now().Before(t.expiry.Add(-renewBefore)) {
		return t.token, nil
	}
	v, err, _ := s.group.Do(userID, func() (any, error) {
		resp, err := s.Client.IssueServiceToken(ctx, &authv1.IssueServiceTokenRequest{
			Service: s.Service, Credential: s.Credential, UserId: userID})
		if err != nil {
			return nil, err
		}
		t := serviceToken{token: resp.GetAccessToken(), expiry: resp.GetExpireTime().AsTime()}
		s.mu.Lock()
		if s.tokens == nil || len(s.tokens) >= maxCachedServiceTokens {
			s.tokens = make(map[string]serviceToken)
		}
		s.tokens[userID] = t
		s.mu.Unlock()
		return t.token, nil
	})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return "", err
		}
		return "", fmt.Errorf("service token for user %s: %w", userID, err)
	}
	return v.(string), nil
}
