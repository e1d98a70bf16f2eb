// Package faults is the fault-injection suite (issue 15): its tests run the production shape —
// the fuzzyllama binary once per target (auth, projects, documents, agents, gateway) on a
// private PostgreSQL cluster and a private redis-server of each scenario's own — and then take
// a dependency away: Redis or the projects service for 30 s with agent runs in flight, a Redis
// restart after a logout, a service killed and restarted, PostgreSQL stopped, the agents worker
// killed with SIGKILL mid-run. Each scenario asserts what a user sees and logs what it measured
// as one line, "FAULT <scenario> key=value …", which docs/PERFORMANCE.md ("Faults") quotes.
//
// The package has no code of its own: everything is in its tests.
package faults
