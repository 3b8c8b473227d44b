package lease

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestLinuxFileSystem(t *testing.T) {
	for _, tc := range []struct {
		magic   uint32
		name    string
		network bool
	}{
		{0x6969, "nfs", true},
		{0x517b, "smb", true},
		{0xff534d42, "cifs", true},
		{0xfe534d42, "smb2", true},
		{0x65735546, "fuse", true},
		{0x01021997, "9p", true},
		{0x00c36400, "ceph", true},
		{0x5346414f, "afs", true},
		{0x6b414653, "afs", true},
		{0x73757245, "coda", true},
		{0x0bd00bd0, "lustre", true},
		{0xef53, "file system type 0xef53", false},         // ext2/3/4
		{0x58465342, "file system type 0x58465342", false}, // xfs
		{0x9123683e, "file system type 0x9123683e", false}, // btrfs
		{0x01021994, "file system type 0x1021994", false},  // tmpfs
		{0x794c7630, "file system type 0x794c7630", false}, // overlayfs
		{0x2fc12fc1, "file system type 0x2fc12fc1", false}, // zfs
	} {
		if got := linuxFileSystem(tc.magic); got != (fileSystem{tc.name, tc.network}) {
			t.Errorf("0x%x: got %+v, want %q network=%v", tc.magic, got, tc.name, tc.network)
		}
	}
	// A negative 32-bit f_type (386, arm) converts to the same pattern.
	var signed int32 = -0x00acb2be // 0xff534d42
	if got := linuxFileSystem(uint32(signed)); got.name != "cifs" {
		t.Errorf("signed f_type: %+v", got)
	}
}

func TestNamedFileSystem(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network bool
	}{
		{"nfs", true},
		{"smbfs", true},
		{"afpfs", true},
		{"webdav", true},
		{"osxfuse", true},
		{"macfuse", true},
		{"fusefs", true},
		{"fusefs.sshfs", true},
		{"apfs", false},
		{"hfs", false},
		{"msdos", false},
		{"exfat", false},
		{"ufs", false},
		{"zfs", false},
		{"tmpfs", false},
		{"devfs", false},
	} {
		if got := namedFileSystem(tc.name); got.network != tc.network || got.name != tc.name {
			t.Errorf("%s: got %+v, want network=%v", tc.name, got, tc.network)
		}
	}
}

func TestWindowsFileSystem(t *testing.T) {
	const fixed, removable = 3, 2
	for _, tc := range []struct {
		root      string
		driveType uint32
		network   bool
	}{
		{`C:\`, fixed, false},
		{`E:\`, removable, false},
		{`Z:\`, driveRemote, true},
		{`\\server\share\`, driveRemote, true},
		{`\\server\share\`, fixed, true}, // a UNC root is a share, whatever the drive type says
		{`\\?\UNC\server\share\`, 0, true},
		{`\\?\C:\`, fixed, false},
		{`\\.\C:\`, fixed, false},
	} {
		got := windowsFileSystem(tc.root, tc.driveType)
		if got.network != tc.network || !strings.Contains(got.name, tc.root) {
			t.Errorf("%s type %d: got %+v, want network=%v", tc.root, tc.driveType, got, tc.network)
		}
	}
}

// fakeFileSystems makes fileSystemOf report a network file system for the
// directories in network and for those under them, until the test ends.
func fakeFileSystems(t *testing.T, network ...string) {
	t.Helper()
	real := fileSystemOf
	t.Cleanup(func() { fileSystemOf = real })
	fileSystemOf = func(dir string) (fileSystem, error) {
		if _, err := os.Stat(dir); err != nil {
			return fileSystem{}, err
		}
		for _, n := range network {
			if rel, err := filepath.Rel(n, dir); err == nil && !strings.HasPrefix(rel, "..") {
				return fileSystem{name: "nfs", network: true}, nil
			}
		}
		return fileSystem{name: "ext4"}, nil
	}
}

func TestOpenRefusesNetworkFS(t *testing.T) {
	mnt := t.TempDir()
	cache, cacheErr := os.UserCacheDir()
	fakeFileSystems(t, mnt)
	for _, tc := range []struct {
		name, path string
	}{
		{"existing directory", filepath.Join(mnt, "owner.lease")},
		{"missing directories", filepath.Join(mnt, "a", "b", "owner.lease")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(tc.path, Options{TTL: ttl})
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded on a network file system")
			}
			if !errors.Is(err, ErrNetworkFS) {
				t.Fatalf("error %v is not ErrNetworkFS", err)
			}
			want := []string{tc.path, "on nfs", "AllowNetworkFS"}
			if cacheErr == nil {
				want = append(want, "such as under "+cache)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			// Refused before anything was created on the mount.
			if _, err := os.Stat(filepath.Dir(tc.path)); tc.name == "missing directories" && err == nil {
				t.Errorf("Open created %s before refusing", filepath.Dir(tc.path))
			}
			if _, err := os.Stat(tc.path + ".d"); err == nil {
				t.Errorf("Open created %s before refusing", tc.path+".d")
			}
		})
	}
	t.Run("allowed", func(t *testing.T) {
		path := filepath.Join(mnt, "owner.lease")
		f, err := Open(path, Options{TTL: ttl, AllowNetworkFS: true})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		l, _, err := f.TryAcquire(ctx, Candidate{InstanceID: "a"})
		if err != nil || l == nil {
			t.Fatalf("TryAcquire on an allowed network file system: %v %v", l, err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// The suggested local place is one that is local, and none is suggested
// when nothing is.
func TestNetworkFSSuggestion(t *testing.T) {
	mnt := t.TempDir()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip("no user cache directory:", err)
	}
	path := filepath.Join(mnt, "owner.lease")

	fakeFileSystems(t, mnt, cache)
	err = checkLocal(path, false)
	if err == nil || !strings.Contains(err.Error(), "such as under "+os.TempDir()+",") {
		t.Errorf("cache directory on NFS: %v, want the temporary directory suggested", err)
	}

	fakeFileSystems(t, mnt, cache, os.TempDir())
	err = checkLocal(path, false)
	if err == nil || strings.Contains(err.Error(), "such as") || !strings.Contains(err.Error(), "on a local disk, or set") {
		t.Errorf("nothing local: %v", err)
	}
}

func TestFileSystemErrorNamesDirectory(t *testing.T) {
	real := fileSystemOf
	t.Cleanup(func() { fileSystemOf = real })
	fileSystemOf = func(string) (fileSystem, error) { return fileSystem{}, errors.New("statfs: input/output error") }
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "owner.lease"), Options{TTL: ttl})
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("Open = %v", err)
	}
}

// The real detection, on the test machine's temporary directory: a local
// file system, which Open accepts.
func TestLocalFileSystemAccepted(t *testing.T) {
	dir := t.TempDir()
	fsys, err := fileSystemOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fsys.network {
		t.Skipf("the temporary directory %s is on %s, a network file system", dir, fsys.name)
	}
	if fsys.name == "" {
		t.Errorf("no name for the file system of %s", dir)
	}
	if _, err := fileSystemOf(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) && runtime.GOOS != "windows" {
		t.Errorf("a missing directory: %v, want ErrNotExist", err)
	}
	f, err := Open(filepath.Join(dir, "missing", "owner.lease"), Options{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
