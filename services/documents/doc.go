// Package documents will hold the documents service (see docs/ARCHITECTURE.md); its issue has not landed yet.
package documents
