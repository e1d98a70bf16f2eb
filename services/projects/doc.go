// Package projects will hold the projects service (see docs/ARCHITECTURE.md); its issue has not landed yet.
package projects
