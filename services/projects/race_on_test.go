//go:build race

package projects_test

// raceDetector is true when the tests run with -race, which makes each step of the gates walk
// about ten times slower.
const raceDetector = true
