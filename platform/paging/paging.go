// Package paging is how every list RPC pages: a page size checked against the RPC's bounds, one
// extra row fetched to know whether another page follows (no count query), and opaque page
// tokens that clients pass back unchanged.
package paging

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// Size checks a requested page size (0 asks for the default) and returns the size to use.
func Size(v *apperr.Violations, size, defaultSize, maxSize int) int {
	if size < 0 || size > maxSize {
		v.Add("pageSize", fmt.Sprintf("must be between 1 and %d", maxSize))
	}
	return cmp.Or(size, defaultSize)
}

// Cut returns a page of size rows out of rows fetched with a limit of size+1: the extra row
// tells whether there is a next page. The token of the next page is made from the last row of
// this one, and is empty on the last page.
func Cut[T any](rows []T, size int, token func(last T) string) ([]T, string) {
	if len(rows) <= size {
		return rows, ""
	}
	rows = rows[:size]
	return rows, token(rows[len(rows)-1])
}

// PositionToken returns the page token of the rows after the row at position, for lists in
// the order of a positive, increasing position (an insertion sequence, a version number).
func PositionToken(position int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt(nil, position, 10))
}

// ParsePositionToken returns the position a token of PositionToken starts after; ok is false
// for any token PositionToken did not return.
func ParsePositionToken(token string) (position int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	position, err = strconv.ParseInt(string(b), 10, 64)
	// Only the canonical form: no sign, leading zeros or stray bits.
	if err != nil || position <= 0 || PositionToken(position) != token {
		return 0, false
	}
	return position, true
}

// CursorToken returns the page token of the rows after the row that cursor (a struct of the
// ordering columns) describes.
func CursorToken(cursor any) string {
	b, _ := json.Marshal(cursor) // cursors are plain structs: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursorToken decodes a token of CursorToken into cursor; an error means the token is not
// one CursorToken returned (the caller still checks the decoded values).
func ParseCursorToken(token string, cursor any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(cursor)
}
