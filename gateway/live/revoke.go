package live

import (
	"sync"

	"github.com/fuzzyllama/fuzzyllama/platform/authn"
)

// sessionEndedReason is the close reason of a socket or stream whose session ended.
const sessionEndedReason = "the session has ended: sign in again"

// sessionIndex finds the open sockets and event streams of a user when sessions end, so that
// they close at once (4001) rather than at their next message or heartbeat. It is keyed by user,
// since one entry can end every session of a user (logout-all, password reset).
type sessionIndex struct {
	mu     sync.Mutex
	byUser map[string]map[*client]struct{}
}

// followRevocations makes the process's revocation list close the hub's connections of every
// session it learns has ended: revoked here, pushed by another process, or found by a reload.
func (h *Hub) followRevocations() {
	if h.verifier == nil || h.verifier.Revocations == nil {
		return
	}
	h.verifier.Revocations.OnRevoke(h.endRevoked)
}

// track indexes c by its user. A revocation that arrived after c's token was checked and
// before this is caught by the check that follows.
func (h *Hub) track(c *client) {
	h.sessions.mu.Lock()
	if h.sessions.byUser == nil {
		h.sessions.byUser = map[string]map[*client]struct{}{}
	}
	set := h.sessions.byUser[c.who.UserID]
	if set == nil {
		set = map[*client]struct{}{}
		h.sessions.byUser[c.who.UserID] = set
	}
	set[c] = struct{}{}
	h.sessions.mu.Unlock()
	h.endIfRevoked(c)
}

func (h *Hub) untrack(c *client) {
	h.sessions.mu.Lock()
	defer h.sessions.mu.Unlock()
	if set := h.sessions.byUser[c.who.UserID]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.sessions.byUser, c.who.UserID)
		}
	}
}

// endRevoked closes, with 4001, the connections the entries end. It runs on the goroutine that
// learned them: it only looks the users up and starts the closes.
func (h *Hub) endRevoked(entries []authn.Revoked) {
	var affected []*client
	h.sessions.mu.Lock()
	for _, e := range entries {
		for c := range h.sessions.byUser[e.UserID] {
			affected = append(affected, c)
		}
	}
	h.sessions.mu.Unlock()
	for _, c := range affected {
		h.endIfRevoked(c)
	}
}

// endIfRevoked closes c with 4001 if its session has ended. The answer comes from the
// in-memory list; one that cannot be given (the list is not loaded) leaves c to the checks of
// its writer and heartbeat.
func (h *Hub) endIfRevoked(c *client) {
	if h.verifier == nil || h.verifier.Revocations == nil {
		return
	}
	if revoked, err := h.verifier.Revocations.IsRevoked(c.who.UserID, c.who.SessionID); err == nil && revoked {
		c.end(CloseTokenExpired, sessionEndedReason)
	}
}
