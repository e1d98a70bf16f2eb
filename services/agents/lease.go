package agents

import (
	"context"
	"errors"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Leases and rescue. The worker running a run holds a lease on it (store.Claim) and renews it
// every third of AGENT_LEASE_TTL; every agents process runs a rescuer that, as often, hands on
// the runs whose lease expired: their worker died or lost the database. The run goes back to
// queued with a new job, so another worker resumes it within about 1⅓ lease TTLs (40 s by
// default), whatever AGENT_RUN_TIMEOUT is. The dead worker's job is left to River's own rescuer
// (AGENT_RESCUE_AFTER) and, worked again, finds itself superseded; a worker that was only cut
// off finds its lease gone and stops without writing anything.

// Defaults of the lease and the outage wait.
const (
	defaultLeaseTTL   = 30 * time.Second
	defaultOutageWait = 15 * time.Minute
	// maxRescues ends a run whose worker keeps dying on it (a crash the run itself causes must
	// not loop for ever).
	maxRescues = 5
)

// errLeaseLost is the cause of a run's (or verification's) cancellation when its worker lost
// the lease.
var errLeaseLost = errors.New("the run's lease was lost")

func (l Limits) leaseTTL() time.Duration {
	if l.LeaseTTL > 0 {
		return l.LeaseTTL
	}
	return defaultLeaseTTL
}

func (l Limits) outageWait() time.Duration {
	if l.OutageWait > 0 {
		return l.OutageWait
	}
	return defaultOutageWait
}

// holdLease keeps the run's lease while it works: it renews it every third of its TTL and
// cancels the returned context (cause errLeaseLost) when another worker holds the run or when
// the lease ran out before a renewal succeeded (then another may have taken it). The returned
// func stops it and releases the lease.
func (s *Service) holdLease(ctx context.Context, l store.Lease) (context.Context, func()) {
	ctx, stop := s.keepLease(ctx, "run", "run_id", l.RunID, func(ctx context.Context, now time.Time, ttl time.Duration) error {
		return s.Store.RenewLease(ctx, l, now, ttl)
	})
	return ctx, func() {
		stop()
		if err := s.Store.ReleaseLease(context.WithoutCancel(ctx), l); err != nil {
			s.Logger.WarnContext(ctx, "cannot release a run's lease; it runs out", "run_id", l.RunID, "error", err.Error())
		}
	}
}

// keepLease renews a lease on the work what (a "run", a "verification") named id (logged as
// idKey) with renew every third of its TTL, until the returned func is called; it cancels the
// returned context (cause errLeaseLost) when renew says the lease is lost (store.ErrLeaseLost)
// or when the lease ran out before a renewal succeeded.
func (s *Service) keepLease(ctx context.Context, what, idKey, id string, renew func(context.Context, time.Time, time.Duration) error) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	ttl := s.Limits.leaseTTL()
	done := make(chan struct{})
	go func() {
		defer close(done)
		expires := s.now().Add(ttl)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now := s.now()
			err := renew(ctx, now, ttl)
			switch {
			case err == nil:
				expires = now.Add(ttl)
				continue
			case ctx.Err() != nil:
				return
			case errors.Is(err, store.ErrLeaseLost):
				s.Logger.InfoContext(ctx, what+" taken over or ended elsewhere; this worker stops it", idKey, id)
			case now.After(expires):
				s.Logger.WarnContext(ctx, "cannot renew a "+what+"'s lease and it has run out; this worker stops it",
					idKey, id, "error", err.Error())
			default:
				s.Logger.WarnContext(ctx, "cannot renew a "+what+"'s lease; retrying", idKey, id, "error", err.Error())
				continue
			}
			cancel(errLeaseLost)
			return
		}
	}()
	return ctx, func() {
		cancel(nil)
		<-done
	}
}

// leaseLost reports whether the run's work stopped because its worker no longer holds it.
func leaseLost(ctx context.Context, err error) bool {
	return errors.Is(err, store.ErrLeaseLost) || errors.Is(context.Cause(ctx), errLeaseLost)
}

// rescueStalledRuns hands on the runs whose worker stopped renewing its lease, every third of
// the lease TTL, until ctx ends. Every agents process runs it; each run is handed on once.
//
// A lease that ran out while this rescuer could not reach the database either (all workers share
// it) was lost to the outage, not to a worker the run stopped: such a rescue is not counted
// toward maxRescues. The outage's span runs from the first check that failed (a lease that
// expires in an outage expires after it: the worker's last renewal came before the outage and
// a lease lasts three periods of the check) to half a lease TTL after the first check that
// succeeded (the worker's next renewal, a third of the TTL later at most, may come after its
// lease ran out). A lease cut off only for its own worker (a network partition of that worker)
// is counted: the rescuer cannot tell it from a crash.
func (s *Service) rescueStalledRuns(ctx context.Context) {
	tick := time.NewTicker(s.Limits.leaseTTL() / 3)
	defer tick.Stop()
	var cutOff store.Outage // the last outage of the database seen here; From zero: none
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := s.now()
		if !failing && !cutOff.From.IsZero() && now.After(cutOff.To.Add(s.Limits.leaseTTL())) {
			cutOff = store.Outage{} // every lease it cut off has been handed on by now
		}
		if failing && !cutOff.From.IsZero() {
			// If this check succeeds, the outage ended by now; a worker renews within a third of
			// the TTL after it, so a lease that runs out later than half of it from now was not
			// lost to the outage.
			cutOff.To = now.Add(s.Limits.leaseTTL() / 2)
		}
		rescued, err := s.Store.RescueExpired(ctx, now, cutOff)
		if err != nil {
			if !failing && ctx.Err() == nil {
				s.Logger.WarnContext(ctx, "cannot look for stalled runs; retrying", "error", err.Error())
			}
			if !failing && outage(err) {
				cutOff.From = now
			}
			failing = true
			continue
		}
		failing = false
		// A verification's worker that died leaves it running with a lease that ran out: it is
		// queued again (the sandbox job is run afresh; nothing of it was recorded).
		if requeued, err := s.Store.RequeueExpiredVerifications(ctx, now); err != nil {
			if ctx.Err() == nil {
				s.Logger.WarnContext(ctx, "cannot look for stalled verifications; retrying", "error", err.Error())
			}
		} else {
			for _, v := range requeued {
				s.Logger.WarnContext(ctx, "verification queued again after its worker stopped", "verification_id", v.ID,
					"project_id", v.ProjectID, "gate", v.Gate)
			}
		}
		for _, r := range rescued {
			if r.CutOff {
				s.Logger.InfoContext(ctx, "run resumed after an outage of the agents database cut off its worker", "run_id", r.ID,
					"project_id", r.ProjectID, "role", r.Role, "gate", r.Gate, "silent", r.Silent.Round(time.Millisecond),
					"rescues", r.Rescues)
			} else {
				s.Logger.WarnContext(ctx, "run resumed after its worker stopped", "run_id", r.ID, "project_id", r.ProjectID,
					"role", r.Role, "gate", r.Gate, "silent", r.Silent.Round(time.Millisecond), "rescues", r.Rescues)
			}
			s.Metrics.rescued(r.Role)
			s.publishRun(ctx, r.Run)
		}
	}
}
