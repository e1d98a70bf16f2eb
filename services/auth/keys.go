package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// Keyring holds the key that signs new tokens and the previous keys that still verify tokens
// signed before a rotation. All of them are published in the JWKS, so rotating is: make the old
// current key a previous key, set a new current key, and restart; tokens signed by the old key
// keep working until they expire, after which it can be dropped.
type Keyring struct {
	Current  authn.Key
	Previous []authn.Key
}

// PublicKey implements authn.KeySource.
func (k *Keyring) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	for _, key := range k.all() {
		if key.ID == kid {
			return key.Public, nil
		}
	}
	return nil, authn.ErrUnknownKey
}

// JWKS returns every public key, current first.
func (k *Keyring) JWKS() []authn.JWK {
	var out []authn.JWK
	for _, key := range k.all() {
		out = append(out, key.PublicJWK())
	}
	return out
}

func (k *Keyring) all() []authn.Key { return append([]authn.Key{k.Current}, k.Previous...) }

// LoadKeyring builds the keyring from configured base64 Ed25519 seeds. When current is empty and
// keyFile is set (the embedded default), the seed is read from keyFile, or generated and written
// there (mode 0600) on first start, so tokens survive a restart.
func LoadKeyring(current string, previous []string, keyFile string) (*Keyring, error) {
	if current == "" {
		if keyFile == "" {
			return nil, errors.New("no signing key configured")
		}
		var err error
		if current, err = loadOrCreateSeed(keyFile); err != nil {
			return nil, err
		}
	}
	seed, err := authn.ParseSeed(current)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	cur, err := authn.NewKey(seed)
	if err != nil {
		return nil, err
	}
	kr := &Keyring{Current: cur}
	for i, p := range previous {
		seed, err := authn.ParseSeed(p)
		if err != nil {
			return nil, fmt.Errorf("previous signing key %d: %w", i+1, err)
		}
		key, err := authn.NewKey(seed)
		if err != nil {
			return nil, err
		}
		kr.Previous = append(kr.Previous, key)
	}
	return kr, nil
}

func loadOrCreateSeed(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read signing key: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString(seed)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(enc+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write signing key: %w", err)
	}
	return enc, nil
}
