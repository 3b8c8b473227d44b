// Package leakcheck checks, at the end of a test binary that ran etcd
// members, that every goroutine but the main one ended.
package leakcheck

import (
	"fmt"
	"os"
	"time"

	"go.uber.org/goleak"
)

// Settle returns 0 once every goroutine but the main one has ended, or 1
// (after printing them) if some remain after 30s. It waits longer than
// goleak.VerifyTestMain: a closed etcd member's HTTP connections to its
// peers (which carry lease renewals to the leader) end only at their
// read timeout, 5s after the last request. And it ignores a request for
// a member's version that a peer made as the member stopped: the handler
// waits for the closed storage for ever.
func Settle() int {
	start := time.Now()
	for {
		err := goleak.Find(goleak.IgnoreAnyFunction("go.etcd.io/etcd/server/v3/etcdserver/api/etcdhttp.newPeerHandler.versionHandler.func1"))
		switch {
		case err == nil:
			return 0
		case time.Since(start) > 30*time.Second:
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Main runs m's tests, then Settle if they passed, and exits.
func Main(run func() int) {
	code := run()
	if code == 0 {
		code = Settle()
	}
	os.Exit(code)
}
