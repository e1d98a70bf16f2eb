//go:build !race

package projects_test

const raceDetector = false
