//go:build race

package gitexport

// raceDetector is true when the tests run with -race, which makes
// compressing tens of megabytes take over ten seconds.
const raceDetector = true
