package etcdlease

import "testing"

// OnWatchCreated has f called, until the test ends, with the ID of the
// member that created each watch of Wait's.
func OnWatchCreated(t testing.TB, f func(member uint64)) {
	t.Helper()
	watchCreated.Store(&f)
	t.Cleanup(func() { watchCreated.Store(nil) })
}
