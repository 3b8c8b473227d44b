//go:build unix

package lease

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/leasehold/leasehold/internal/clock"
)

// What any process of the user can put in the record's place that
// open(2) refuses must be damage too, as a FIFO is, and must not stop every
// follower for good once the holder is gone (the holder's next rename
// would replace them, but a dead or frozen holder renames nothing): a
// unix socket bound at the path (open gives ENXIO), a symbolic link to
// itself (ELOOP), a symbolic link to a file the user cannot read
// (EACCES), a record made unreadable by chmod (EACCES, unless root).
// Each must be damage, as a garbage record or a FIFO is: the follower
// takes over within milliseconds and its record replaces the thing.
func TestUnopenableRecordIsDamage(t *testing.T) {
	cases := map[string]func(t *testing.T, path string){
		"socket": func(t *testing.T, path string) {
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Skip(err)
			}
			t.Cleanup(func() { ln.Close() })
		},
		"symlink loop": func(t *testing.T, path string) {
			if err := os.Symlink(filepath.Base(path), path); err != nil {
				t.Fatal(err)
			}
		},
		"mode 000": func(t *testing.T, path string) {
			if os.Geteuid() == 0 {
				t.Skip("root reads it anyway")
			}
			if err := os.WriteFile(path, []byte("{}"), 0); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, put := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "owner.lease")
			if len(path) > 90 { // keep the socket path bindable
				dir, err := os.MkdirTemp("", "r12")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				path = filepath.Join(dir, "l")
			}
			a, b := open(t, path, clock.System), open(t, path, clock.System)
			la := acquire(t, a, "a")
			mustHeld(t, b, "b")
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			put(t, path)
			la.Close() // the holder dies
			l, _, err := b.TryAcquire(ctx, Candidate{InstanceID: "b"})
			if err != nil {
				t.Fatalf("b's TryAcquire with the holder gone and a %s in the record's place: %v", name, err)
			}
			defer l.Close()
			if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("the record after b's takeover: %v, %v", fi, err)
			}
		})
	}
}
