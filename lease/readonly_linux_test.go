package lease

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a small tmpfs at a new directory, unmounted at cleanup.
func mountTmpfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func remountReadOnly(t *testing.T, dir string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=1m,mode=0700"); err != nil {
		t.Fatal(err)
	}
}

func TestReadOnlyFileSystem(t *testing.T) {
	dir := mountTmpfs(t)
	held := filepath.Join(dir, "held.lease")
	f := open(t, held, newClock())
	if err := acquire(t, f, "a").Release(ctx); err != nil {
		t.Fatal(err)
	}
	f.Close()
	remountReadOnly(t, dir)

	fresh := filepath.Join(dir, "fresh.lease")
	if _, err := Open(fresh, Options{TTL: ttl}); err == nil || !strings.Contains(err.Error(), fresh) {
		t.Fatalf("Open on a read-only file system = %v, want an error naming %s", err, fresh)
	}
	g := open(t, held, newClock())
	_, _, err := g.TryAcquire(ctx, Candidate{InstanceID: "b"})
	if err == nil || errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), held) || !errors.Is(err, syscall.EROFS) {
		t.Fatalf("TryAcquire on a read-only file system = %v, want EROFS naming %s", err, held)
	}
}
