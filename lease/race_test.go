//go:build race

package lease

// raceEnabled is set when the tests run with the race detector, which the
// explorer's schedules (one goroutine moves at a time) do not need.
const raceEnabled = true
