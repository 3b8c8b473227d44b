//go:build unix

package lease

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/leasehold/leasehold/internal/clock"
)

// Anyone may write the record, and the package comment says that a record
// deleted, damaged or overwritten is replaced by the holder's next renewal
// and costs nothing worse than a wait. A record replaced by a FIFO (one
// mkfifo by any process of the user) hangs every reader for good: read
// opens it O_RDONLY without O_NONBLOCK, which blocks until some process
// opens it for writing, and the holder's renewal renames a new record
// over the name but does not wake a reader blocked on the old inode. The
// follower hangs inside TryAcquire with its File's mutex held, so when
// the holder goes no one takes over, ever. (Open checks that the record
// is a regular file, but only once.)
func TestRecordReplacedByFIFOIsDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owner.lease")
	a, b := open(t, path, clock.System), open(t, path, clock.System)
	la := acquire(t, a, "a")
	mustHeld(t, b, "b")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	la.Close() // the holder dies: b should take over within milliseconds

	done := make(chan error, 1)
	go func() {
		l, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
		if l != nil {
			t.Cleanup(func() { l.Close() })
		}
		done <- err
	}()
	select {
	case err := <-done:
		// The FIFO is damage, as a garbage record is: b takes over, and
		// its record replaces it.
		if err != nil {
			t.Fatalf("b's TryAcquire with the holder gone and a FIFO in the record's place: %v", err)
		}
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("the record after b's takeover: %v, %v", fi, err)
		}
	case <-time.After(2 * time.Second):
		// Unblock the reader, so that the test binary can end.
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("b's TryAcquire hung for 2s reading a record replaced by a FIFO, with the holder gone")
	}
}
