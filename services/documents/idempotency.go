package documents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// A batch saved with an idempotency key leaves its result in the store, in the same
// transaction: a retry of the same request (an agent job replayed after a crash, a client
// retrying after a lost response) finds it and stores nothing. The project's writes are
// serialised, so two requests with one key cannot both miss it.

// requestHash identifies a batch request, so that a key reused for another request is told
// apart from a retry.
func requestHash(docs []NewDocument, agent Agent, addVersions bool) string {
	h := sha256.New()
	_ = json.NewEncoder(h).Encode(struct { // plain values into a hash: cannot fail
		Docs        []NewDocument
		Agent       Agent
		AddVersions bool
	}{docs, agent, addVersions})
	return hex.EncodeToString(h.Sum(nil))
}

// replay returns the stored result of the project's key, if there is one for this request.
func replay(ctx context.Context, q store.Queries, projectID, key, hash string) (Batch, bool, error) {
	if key == "" {
		return Batch{}, false, nil
	}
	r, err := q.Idempotent(ctx, projectID, key)
	if errors.Is(err, store.ErrNotFound) {
		return Batch{}, false, nil
	}
	if err != nil {
		return Batch{}, false, err
	}
	if r.RequestHash != hash {
		return Batch{}, false, apperr.FailedPrecondition("idempotency key %q was used for a different request in this project: use a new key for a new request", key).
			WithReason("IDEMPOTENCY_KEY_REUSED")
	}
	var out Batch
	if err := json.Unmarshal(r.Result, &out); err != nil {
		return Batch{}, false, err
	}
	return out, true, nil
}

// remember stores the result of the request under its key.
func remember(ctx context.Context, q store.Queries, projectID, key, hash string, out Batch, now time.Time) error {
	if key == "" {
		return nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return q.PutIdempotent(ctx, store.Idempotent{ProjectID: projectID, Key: key, RequestHash: hash, Result: b, CreatedAt: now})
}
