package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"
)

// Verification states.
const (
	VerificationQueued  = "queued"
	VerificationRunning = "running"
	VerificationPassed  = "passed"
	VerificationFailed  = "failed"
	VerificationError   = "error"
	// VerificationSkipped: the tree gives nothing to run for the proofs the gate lacks (no
	// component to build, no Go to scan); those proofs are the owner's to record.
	VerificationSkipped = "skipped"
)

// ErrVerificationActive: the gate already has a verification queued or running.
var ErrVerificationActive = errors.New("store: the gate has a verification in progress")

// Verification is one sandboxed build and test of a gate's source tree.
type Verification struct {
	ID               string
	ProjectID        string
	Gate             int
	Revision         int
	UserID           string // the user it works for (their delegated identity reads the tree)
	State            string
	DeliverablesHash string
	TreeHash         string
	Steps            []VerificationStep
	Error            string
	Repair           int  // repairs of the gate revision before it
	RepairStarted    bool // its failure was sent back to the developers
	Runner           string
	CreatedAt        time.Time
	EndedAt          time.Time
	// LeaseToken is the token of the worker that claimed it (ClaimVerification), "" before.
	LeaseToken string
}

// Active reports whether the verification may still change state.
func (v Verification) Active() bool {
	return v.State == VerificationQueued || v.State == VerificationRunning
}

// VerificationStep is one proof a verification produced.
type VerificationStep struct {
	ProofType   string   `json:"proofType"`
	Passed      bool     `json:"passed"`
	Summary     string   `json:"summary"`
	Command     string   `json:"command"`
	ExitCode    int      `json:"exitCode"`
	DurationMS  int64    `json:"durationMs"`
	ArtifactIDs []string `json:"artifactIds,omitempty"`
	// FailedDirs are the tree's directories whose steps failed (a repair goes to who wrote them).
	FailedDirs []string `json:"failedDirs,omitempty"`
	// Informational: the gate does not require this proof (a preview): its failure is shown,
	// not repaired.
	Informational bool `json:"informational,omitempty"`
}

// Repairable reports whether the step failed in a way that sends the code back for repair.
func (s VerificationStep) Repairable() bool { return !s.Passed && !s.Informational }

// Artifact is a file a verification left.
type Artifact struct {
	ID             string
	ProjectID      string
	VerificationID string
	Kind           string // "log", "screenshot"
	MediaType      string
	Content        []byte // nil from ArtifactInfo
	Size           int64  // len(Content), also from ArtifactInfo
	CreatedAt      time.Time
}

// VerifyJob runs a verification.
type VerifyJob struct {
	VerificationID string `json:"verificationId"`
}

// Kind implements river.JobArgs.
func (VerifyJob) Kind() string { return "verify_tree" }

// InsertOpts implements river.JobArgsWithInsertOpts: a verification is worked once; a worker
// that dies leaves it to the rescue of River's stuck jobs, and its state stays honest (running
// then error, see FailStaleVerifications).
func (VerifyJob) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3, Priority: 2} }

const verificationColumns = `id, project_id, gate, revision, user_id, state, deliverables_hash, tree_hash, steps, error,
	repair, repair_started, runner, created_at, ended_at, lease_token`

func scanVerification(row scanner) (Verification, error) {
	var v Verification
	var steps string
	var created, ended int64
	err := row.Scan(&v.ID, &v.ProjectID, &v.Gate, &v.Revision, &v.UserID, &v.State, &v.DeliverablesHash, &v.TreeHash,
		&steps, &v.Error, &v.Repair, &v.RepairStarted, &v.Runner, &created, &ended, &v.LeaseToken)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	} else if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(steps), &v.Steps); err != nil {
		return v, fmt.Errorf("verification %s: steps: %w", v.ID, err)
	}
	v.CreatedAt, v.EndedAt = fromMicros(created), fromMicros(ended)
	return v, nil
}

// CreateVerification inserts v as queued and enqueues its job, in one transaction. When the
// gate already has one queued or running, it returns that one and ErrVerificationActive.
func (d *DB) CreateVerification(ctx context.Context, v Verification) (Verification, error) {
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO verifications (id, project_id, gate, revision, user_id, state,
			deliverables_hash, repair, created_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8)
			ON CONFLICT (project_id, gate) WHERE state IN ('queued', 'running') DO NOTHING`,
			v.ID, v.ProjectID, v.Gate, v.Revision, v.UserID, v.DeliverablesHash, v.Repair, micros(v.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			v, err = scanVerification(tx.QueryRowContext(ctx, `SELECT `+verificationColumns+` FROM verifications
				WHERE project_id = $1 AND gate = $2 AND state IN ('queued', 'running')`, v.ProjectID, v.Gate))
			if err != nil {
				return err
			}
			return ErrVerificationActive
		}
		if _, err := d.queue.InsertTx(ctx, tx, VerifyJob{VerificationID: v.ID}, nil); err != nil {
			return fmt.Errorf("enqueue verification: %w", err)
		}
		v.State, v.Steps = VerificationQueued, nil
		return nil
	})
	return v, err
}

// Verification returns a verification.
func (d *DB) Verification(ctx context.Context, id string) (Verification, error) {
	return scanVerification(d.db.QueryRowContext(ctx, `SELECT `+verificationColumns+` FROM verifications WHERE id = $1`, id))
}

// LatestVerification returns the newest verification of a gate revision, ErrNotFound if none.
func (d *DB) LatestVerification(ctx context.Context, projectID string, gate, revision int) (Verification, error) {
	return scanVerification(d.db.QueryRowContext(ctx, `SELECT `+verificationColumns+` FROM verifications
		WHERE project_id = $1 AND gate = $2 AND revision = $3 ORDER BY created_at DESC, id DESC LIMIT 1`, projectID, gate, revision))
}

// PassedVerification returns the newest passed verification of a gate that ran on treeHash,
// ErrNotFound if none did.
func (d *DB) PassedVerification(ctx context.Context, projectID string, gate int, treeHash string) (Verification, error) {
	return scanVerification(d.db.QueryRowContext(ctx, `SELECT `+verificationColumns+` FROM verifications
		WHERE project_id = $1 AND gate = $2 AND tree_hash = $3 AND state = 'passed' ORDER BY created_at DESC, id DESC LIMIT 1`,
		projectID, gate, treeHash))
}

// Verifications lists a project's verifications, newest first, at most limit; gate 0 means all.
func (d *DB) Verifications(ctx context.Context, projectID string, gate, limit int) ([]Verification, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+verificationColumns+` FROM verifications
		WHERE project_id = $1 AND ($2 = 0 OR gate = $2) ORDER BY created_at DESC, id DESC LIMIT $3`, projectID, gate, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Verification
	for rows.Next() {
		v, err := scanVerification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// A running verification is held by the worker running it through a lease, as a run is (see
// lease.go): ClaimVerification takes it, RenewVerificationLease pushes the expiry forward while
// the sandbox works, and FinishVerification applies only for the holder. A verification whose
// lease expired (its worker died) is queued again by RequeueExpiredVerifications, which the
// sweep calls.

// ClaimVerification marks a queued verification running for the worker with token, or takes
// over a running one whose lease expired, under a lease that expires after ttl. ErrFinished when
// it has ended; ErrLeased when another worker holds a live lease.
func (d *DB) ClaimVerification(ctx context.Context, id, token string, now time.Time, ttl time.Duration) (Verification, error) {
	v, err := scanVerification(d.db.QueryRowContext(ctx, `UPDATE verifications SET state = 'running', lease_token = $2,
		lease_expires_at = $4 WHERE id = $1 AND (state = 'queued' OR state = 'running' AND lease_expires_at < $3)
		RETURNING `+verificationColumns, id, token, micros(now), micros(now.Add(ttl))))
	if !errors.Is(err, ErrNotFound) {
		return v, err
	}
	current, err := d.Verification(ctx, id)
	switch {
	case err != nil:
		return v, err
	case !current.Active():
		return v, ErrFinished
	}
	return v, ErrLeased
}

// RenewVerificationLease pushes the lease of the worker with token forward to now+ttl;
// ErrLeaseLost when it no longer holds the verification (it ended, or was taken over).
func (d *DB) RenewVerificationLease(ctx context.Context, id, token string, now time.Time, ttl time.Duration) error {
	res, err := d.db.ExecContext(ctx, `UPDATE verifications SET lease_expires_at = $3 WHERE id = $1 AND lease_token = $2
		AND state = 'running'`, id, token, micros(now.Add(ttl)))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	return ErrLeaseLost
}

// RequeueExpiredVerifications queues again, each with a new job, the running verifications
// whose worker's lease expired before now (the worker died or lost the database), and returns
// them.
func (d *DB) RequeueExpiredVerifications(ctx context.Context, now time.Time) ([]Verification, error) {
	var requeued []Verification
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		requeued = nil
		rows, err := tx.QueryContext(ctx, `UPDATE verifications SET state = 'queued', lease_token = '', lease_expires_at = 0
			WHERE state = 'running' AND lease_token <> '' AND lease_expires_at < $1 RETURNING `+verificationColumns, micros(now))
		if err != nil {
			return err
		}
		for rows.Next() {
			v, err := scanVerification(rows)
			if err != nil {
				rows.Close()
				return err
			}
			requeued = append(requeued, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, v := range requeued {
			if _, err := d.queue.InsertTx(ctx, tx, VerifyJob{VerificationID: v.ID}, nil); err != nil {
				return fmt.Errorf("enqueue verification: %w", err)
			}
		}
		return nil
	})
	return requeued, err
}

// TreeFile is one file of the tree a verification ran on, at the version it had.
type TreeFile struct {
	Path        string `json:"path"`
	DocumentID  string `json:"documentId"`
	Version     int    `json:"version"`
	Gate        int    `json:"gate"`
	ContentHash string `json:"contentHash"`
	Size        int64  `json:"size"`
}

// StartVerification records, for the worker holding the verification's lease (token), the tree
// it runs on (its hash and files) and the runner. ErrLeaseLost when that worker no longer holds
// it (it ended, or another took it over).
func (d *DB) StartVerification(ctx context.Context, id, token, treeHash string, files []TreeFile, runner string) (Verification, error) {
	if files == nil {
		files = []TreeFile{}
	}
	listed, err := json.Marshal(files)
	if err != nil {
		return Verification{}, err
	}
	v, err := scanVerification(d.db.QueryRowContext(ctx, `UPDATE verifications SET tree_hash = $2, runner = $3, tree_files = $4
		WHERE id = $1 AND state = 'running' AND lease_token = $5 RETURNING `+verificationColumns, id, treeHash, runner, string(listed), token))
	if errors.Is(err, ErrNotFound) {
		return v, ErrLeaseLost
	}
	return v, err
}

// ReleaseVerification queues again a verification the worker holding it (token) could not
// finish for a passing reason (a service it needs is unavailable), so that the job's retry may
// claim it at once. Nothing happens if that worker no longer holds it.
func (d *DB) ReleaseVerification(ctx context.Context, id, token string) error {
	_, err := d.db.ExecContext(ctx, `UPDATE verifications SET state = 'queued', lease_token = '', lease_expires_at = 0
		WHERE id = $1 AND state = 'running' AND lease_token = $2`, id, token)
	return err
}

// TreeFiles returns the files of the tree of treeHash as the newest verification of the project
// that ran on it listed them, ErrNotFound if none did.
func (d *DB) TreeFiles(ctx context.Context, projectID, treeHash string) ([]TreeFile, error) {
	var listed string
	err := d.db.QueryRowContext(ctx, `SELECT tree_files FROM verifications WHERE project_id = $1 AND tree_hash = $2
		AND tree_files <> '[]' ORDER BY created_at DESC, id DESC LIMIT 1`, projectID, treeHash).Scan(&listed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	var files []TreeFile
	if err := json.Unmarshal([]byte(listed), &files); err != nil {
		return nil, fmt.Errorf("tree %s: files: %w", treeHash, err)
	}
	return files, nil
}

// AddArtifacts stores what a verification left, before its proofs name them.
func (d *DB) AddArtifacts(ctx context.Context, v Verification, artifacts []Artifact) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		for _, a := range artifacts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts (id, project_id, verification_id, kind, media_type, content,
				created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, v.ProjectID, v.ID, a.Kind, a.MediaType, a.Content,
				micros(a.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// FinishVerification ends a verification with its state, steps and error, if the worker whose
// lease token v carries (or nobody, for one never claimed) holds it. It returns ErrFinished if
// it had already ended or another worker holds it.
func (d *DB) FinishVerification(ctx context.Context, v Verification) (Verification, error) {
	steps, err := json.Marshal(v.Steps)
	if err != nil {
		return v, err
	}
	got, err := scanVerification(d.db.QueryRowContext(ctx, `UPDATE verifications SET state = $2, steps = $3, error = $4,
		ended_at = $5, lease_expires_at = 0 WHERE id = $1 AND state IN ('queued', 'running') AND lease_token = $6
		RETURNING `+verificationColumns, v.ID, v.State, string(steps), v.Error, micros(v.EndedAt), v.LeaseToken))
	if errors.Is(err, ErrNotFound) {
		return v, ErrFinished
	}
	return got, err
}

// MarkRepairStarted records that a failed verification was sent back to the developers; it
// reports false if that was already recorded (another reconcile did it).
func (d *DB) MarkRepairStarted(ctx context.Context, id string) (bool, error) {
	res, err := d.db.ExecContext(ctx, `UPDATE verifications SET repair_started = TRUE WHERE id = $1 AND NOT repair_started`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Artifact returns an artifact of a project.
func (d *DB) Artifact(ctx context.Context, projectID, id string) (Artifact, error) {
	var a Artifact
	var created int64
	err := d.db.QueryRowContext(ctx, `SELECT id, project_id, verification_id, kind, media_type, content, created_at
		FROM artifacts WHERE id = $1 AND project_id = $2`, id, projectID).Scan(&a.ID, &a.ProjectID, &a.VerificationID,
		&a.Kind, &a.MediaType, &a.Content, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	a.CreatedAt = fromMicros(created)
	a.Size = int64(len(a.Content))
	return a, err
}

// ArtifactInfo returns an artifact of a project without its content (Size says how large it is).
func (d *DB) ArtifactInfo(ctx context.Context, projectID, id string) (Artifact, error) {
	var a Artifact
	var created int64
	err := d.db.QueryRowContext(ctx, `SELECT id, project_id, verification_id, kind, media_type, length(content), created_at
		FROM artifacts WHERE id = $1 AND project_id = $2`, id, projectID).Scan(&a.ID, &a.ProjectID, &a.VerificationID,
		&a.Kind, &a.MediaType, &a.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	a.CreatedAt = fromMicros(created)
	return a, err
}

// FailStaleVerifications ends as errors the verifications running longer than maxAge (their
// worker died and River gave up on the job, or the job was lost), so that a gate does not wait
// for ever; it returns their projects.
func (d *DB) FailStaleVerifications(ctx context.Context, now time.Time, maxAge time.Duration) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `UPDATE verifications SET state = 'error', ended_at = $1,
		error = 'the verification did not finish (its worker stopped); it runs again on the next look at the gate'
		WHERE state IN ('queued', 'running') AND created_at < $2 RETURNING project_id`, micros(now), micros(now.Add(-maxAge)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var projects []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		if !slices.Contains(projects, p) {
			projects = append(projects, p)
		}
	}
	return projects, rows.Err()
}
