// Package agents will hold the agents service (see docs/ARCHITECTURE.md); its issue has not landed yet.
package agents
