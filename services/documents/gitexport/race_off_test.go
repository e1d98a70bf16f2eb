//go:build !race

package gitexport

const raceDetector = false
