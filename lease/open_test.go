package lease

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestOpenRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link.lease")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		ttl        time.Duration
		want       string
	}{
		{"empty path", "", ttl, "empty path"},
		{"zero TTL", filepath.Join(dir, "a.lease"), 0, "TTL must be positive"},
		{"directory", sub, ttl, sub + " is a directory"},
		{"symlink", link, ttl, link + " is a symbolic link"},
		{"parent is a file", filepath.Join(file, "x.lease"), ttl, file},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(tc.path, Options{TTL: tc.ttl})
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestOpenCreatesPrivateParents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "owner.lease")
	f, err := Open(path, Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, d := range []string{filepath.Dir(path), path + ".d"} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
}

func TestOpenRefusesSharedFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("ownership and mode bits are Unix checks")
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"group-writable directory", func(t *testing.T, path string) {
			chmod(t, filepath.Dir(path), 0o775)
		}, "writable by group or others"},
		{"world-writable record", func(t *testing.T, path string) {
			write(t, path)
			chmod(t, path, 0o666)
		}, "writable by group or others"},
		{"record owned by another user", func(t *testing.T, path string) {
			write(t, path)
			chown(t, path)
		}, "owned by uid"},
		{"sidecar owned by another user", func(t *testing.T, path string) {
			if err := os.Mkdir(path+".d", 0o700); err != nil {
				t.Fatal(err)
			}
			chown(t, path+".d")
		}, "owned by uid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "owner.lease")
			tc.setup(t, path)
			f, err := Open(path, Options{TTL: ttl})
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// chown gives path to another user; only root can.
func chown(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("changing a file's owner needs root")
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}
