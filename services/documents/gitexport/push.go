package gitexport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/revlist"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

var (
	// ErrNonFastForward: the remote branch has commits this export does
	// not contain. Push never force-pushes, so work on the remote survives.
	ErrNonFastForward = errors.New("gitexport: the remote branch has commits the export does not contain")
	// ErrAuthentication: the remote refused the token (HTTP 401 or 403).
	ErrAuthentication = errors.New("gitexport: the remote refused the token")
	// ErrRemoteNotFound: the remote answered 404 (no such repository).
	ErrRemoteNotFound = errors.New("gitexport: the remote repository was not found")
	// ErrRejected: the remote answered the push with a status saying no (a
	// hook or branch protection refusing the update); the wrapped text is
	// the remote's.
	ErrRejected = errors.New("the remote rejected the update")
)

// tokenUser is the basic-auth user name sent with the token as password:
// the one GitHub documents for tokens. Most forges look only at the
// password when it is a token.
const tokenUser = "x-access-token"

// Push sends the branch to remoteURL over HTTP(S), authenticating with token
// as the basic-auth password. A remote already at our head is success. A
// remote branch that is not an ancestor of our head is ErrNonFastForward:
// Push never force-pushes. Refused credentials are ErrAuthentication, URL
// problems ErrInvalidRemoteURL, and policy refusals while connecting
// ErrRemoteRefused, failed connections ErrUnreachable, and a status refusing
// the update ErrRejected. No error contains the token.
//
// Push does not use go-git's Remote.Push: that picks its HTTP transport from
// a process-wide registry (client.InstallProtocol), which would mean mutating
// global state shared with any other go-git user in the process, and it
// reports a rejected fast-forward only as text. Instead Push opens a
// receive-pack session on a transport made for this call, whose dialer
// enforces policy, and does the ref update itself.
func (r *Repository) Push(ctx context.Context, remoteURL, token string, policy Policy) error {
	if err := CheckRemoteURL(remoteURL, policy); err != nil {
		return err
	}
	if token == "" {
		return errors.New("gitexport: push: the token is empty")
	}
	endpoint, err := transport.NewEndpoint(remoteURL)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidRemoteURL, redact(err, token))
	}

	g := &guard{policy: policy}
	client := g.httpClient()
	defer client.CloseIdleConnections()
	session, err := githttp.NewClient(client).NewReceivePackSession(endpoint,
		&githttp.BasicAuth{Username: tokenUser, Password: token})
	if err != nil {
		return fmt.Errorf("gitexport: push: %s", redact(err, token))
	}
	defer session.Close()

	err = r.push(ctx, session)
	switch {
	case err == nil, errors.Is(err, ErrNonFastForward):
		return err
	case g.refused() != nil:
		return g.refused()
	case ctx.Err() != nil:
		return fmt.Errorf("gitexport: push: %w", ctx.Err())
	case g.unreachable() != nil:
		return fmt.Errorf("%w: %s", ErrUnreachable, redact(err, token))
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return fmt.Errorf("%w: %s", ErrAuthentication, redact(err, token))
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%w: %s", ErrRemoteNotFound, redact(err, token))
	default:
		// Not wrapped: the original error's text may hold the token.
		return fmt.Errorf("gitexport: push: %s", redact(err, token))
	}
}

// push updates the remote branch from its advertised value to r.head.
func (r *Repository) push(ctx context.Context, session transport.ReceivePackSession) error {
	adv, err := session.AdvertisedReferencesContext(ctx)
	if err != nil {
		return err
	}
	remoteRefs, err := adv.AllReferences()
	if err != nil {
		return err
	}

	old := plumbing.ZeroHash
	var haves []plumbing.Hash // what the remote already has, to leave out of the pack
	for name, ref := range remoteRefs {
		if ref.Type() != plumbing.HashReference {
			continue
		}
		haves = append(haves, ref.Hash())
		if name == r.branch {
			old = ref.Hash()
		}
	}
	if old == r.head {
		return nil // already up to date
	}
	if !old.IsZero() {
		ok, err := r.inHistory(old)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w (%s is at %s)", ErrNonFastForward, r.branch, old)
		}
	}

	// revlist skips objects reachable from haves it has, and tolerates
	// haves it does not know (other branches on the remote).
	objects, err := revlist.Objects(r.store, []plumbing.Hash{r.head}, haves)
	if err != nil {
		return fmt.Errorf("list objects to send: %w", err)
	}

	req := packp.NewReferenceUpdateRequestFromCapabilities(adv.Capabilities)
	req.Commands = []*packp.Command{{Name: r.branch, Old: old, New: r.head}}
	pack, packWriter := io.Pipe()
	req.Packfile = pack
	encoded := make(chan error, 1)
	go func() {
		useRefDeltas := !adv.Capabilities.Supports(capability.OFSDelta)
		_, err := packfile.NewEncoder(packWriter, r.store, useRefDeltas).Encode(objects, 10)
		packWriter.CloseWithError(err)
		encoded <- err
	}()

	report, err := session.ReceivePack(ctx, req)
	pack.Close() // unblocks the encoder if ReceivePack stopped reading early
	if encErr := <-encoded; err == nil && encErr != nil {
		return fmt.Errorf("encode pack: %w", encErr)
	}
	if err != nil && report != nil {
		// The server answered, with a status saying no.
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

// inHistory reports whether h is one of r's commits. History is linear, so
// it is a walk along first parents from the head.
func (r *Repository) inHistory(h plumbing.Hash) (bool, error) {
	for at := r.head; ; {
		if at == h {
			return true, nil
		}
		c, err := object.GetCommit(r.store, at)
		if err != nil {
			return false, err
		}
		if len(c.ParentHashes) == 0 {
			return false, nil
		}
		at = c.ParentHashes[0]
	}
}

// redact returns err's text with the token cut out. Error text from go-git
// and net/http can include what the server sent back, and a server might
// echo what it received.
func redact(err error, token string) string {
	return strings.TrimSpace(strings.ReplaceAll(err.Error(), token, "[REDACTED]"))
}
