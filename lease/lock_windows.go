package lease

import (
	"os"

	"github.com/gofrs/flock"
)

// liveLock is a lock on a live file, which the system drops when the
// process dies.
type liveLock struct{ fl *flock.Flock }

// lockFile takes a lock on path without blocking: exclusive (creating the
// file if needed) or shared (the file must exist). It reports false if
// another handle holds a conflicting lock.
func lockFile(path string, exclusive bool) (*liveLock, bool, error) {
	var fl *flock.Flock
	var ok bool
	var err error
	if exclusive {
		fl = flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
		ok, err = fl.TryLock()
	} else {
		fl = flock.New(path, flock.SetFlag(os.O_RDONLY))
		ok, err = fl.TryRLock()
	}
	if err != nil || !ok {
		return nil, false, err
	}
	return &liveLock{fl: fl}, true, nil
}

// Unlock drops the lock and closes the handle.
func (l *liveLock) Unlock() error { return l.fl.Unlock() }

// Close is Unlock: what the system does to the locks of a process that dies.
func (l *liveLock) Close() error { return l.fl.Unlock() }

// Locked reports whether the lock is held.
func (l *liveLock) Locked() bool { return l.fl.Locked() || l.fl.RLocked() }

// Path is the live file's path.
func (l *liveLock) Path() string { return l.fl.Path() }
