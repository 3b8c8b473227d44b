package lease

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNetworkFS is wrapped by the error of Open for a lease on a network
// file system, unless Options.AllowNetworkFS is set.
var ErrNetworkFS = errors.New("lease: network file system")

// fileSystem is what Open learns of the file system a directory is on.
type fileSystem struct {
	name    string // such as "nfs" or "a remote drive (\\server\share\)"
	network bool
}

// fileSystemOf returns the file system that the existing directory dir is
// on: statfs on Unix, the drive type on Windows. Tests replace it.
var fileSystemOf = statFileSystem

// checkLocal refuses a lease at path on a network file system, unless
// allow.
func checkLocal(path string, allow bool) error {
	if allow {
		return nil
	}
	fsys, dir, err := fileSystemAt(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("lease: find the file system of %s: %w", dir, err)
	}
	if !fsys.network {
		return nil
	}
	return fmt.Errorf("%w: %s is on %s, where locks, exclusive creation and rename do not give the guarantees a lease needs; "+
		"put the lease on a local disk%s, or set AllowNetworkFS if this file system does give them",
		ErrNetworkFS, path, fsys.name, localPlace())
}

// fileSystemAt returns the file system that dir is or would be on: that of
// its nearest directory that exists, which it also returns.
func fileSystemAt(dir string) (fileSystem, string, error) {
	fsys, err := fileSystemOf(dir)
	for errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
		fsys, err = fileSystemOf(dir)
	}
	return fsys, dir, err
}

// localPlace names a directory on a local file system, for the error of
// checkLocal: the user's cache directory, else the temporary directory;
// "" if neither is local.
func localPlace() string {
	var dirs []string
	if d, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, d)
	}
	for _, d := range append(dirs, os.TempDir()) {
		if fsys, _, err := fileSystemAt(d); err == nil && !fsys.network {
			return ", such as under " + d
		}
	}
	return ""
}

// networkMagic names the Linux file systems, by their statfs f_type, that
// are shared over a network or between machines or virtual machines, or,
// for FUSE, may be: the values of linux/magic.h and statfs(2).
var networkMagic = map[uint32]string{
	0x6969:     "nfs",
	0x517b:     "smb",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0x65735546: "fuse",
	0x01021997: "9p",
	0x00c36400: "ceph",
	0x5346414f: "afs",
	0x6b414653: "afs",
	0x73757245: "coda",
	0x564c:     "ncpfs",
	0x7461636f: "ocfs2",
	0x01161970: "gfs2",
	0x0bd00bd0: "lustre",
	0x47504653: "gpfs",
	0x19830326: "beegfs",
	0xaad7aaea: "panfs",
	0x013111a8: "ibrix",
	0x61636673: "acfs",
	0xbeefdead: "snfs",
	0x786f4256: "vboxsf",
	0xbacbacbc: "vmhgfs",
	0x7c7c6673: "prl_fs",
}

// linuxFileSystem classifies a Linux statfs f_type.
func linuxFileSystem(magic uint32) fileSystem {
	if name, ok := networkMagic[magic]; ok {
		return fileSystem{name: name, network: true}
	}
	return fileSystem{name: fmt.Sprintf("file system type 0x%x", magic)}
}

// networkNames are the f_fstypename of the macOS and BSD file systems that
// are shared over a network. Any name with "fuse" in it is one too (macFUSE
// names itself osxfuse or macfuse; FreeBSD, fusefs).
var networkNames = map[string]bool{
	"nfs": true, "oldnfs": true, "smbfs": true, "cifs": true, "afpfs": true,
	"webdav": true, "ftp": true, "afs": true, "p9fs": true,
}

// namedFileSystem classifies an f_fstypename.
func namedFileSystem(name string) fileSystem {
	return fileSystem{name: name, network: networkNames[name] || strings.Contains(name, "fuse")}
}

// driveRemote is DRIVE_REMOTE, the type GetDriveType gives a network
// drive.
const driveRemote = 4

// windowsFileSystem classifies the volume root of a Windows path and its
// drive type.
func windowsFileSystem(root string, driveType uint32) fileSystem {
	if driveType == driveRemote || isUNC(root) {
		return fileSystem{name: "a remote drive (" + root + ")", network: true}
	}
	return fileSystem{name: "drive " + root}
}

// isUNC reports whether a Windows path names a network share:
// \\server\share or \\?\UNC\server\share.
func isUNC(p string) bool {
	p = strings.ReplaceAll(p, "/", `\`)
	if strings.HasPrefix(strings.ToUpper(p), `\\?\UNC\`) {
		return true
	}
	return strings.HasPrefix(p, `\\`) && !strings.HasPrefix(p, `\\?\`) && !strings.HasPrefix(p, `\\.\`)
}
