package lease

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Epochs are reserved durably a block at a time, so that claiming one need
// not wait for the disk. Block k holds the epochs (k-1)*size+1 to k*size.
// A participant claims an epoch only in a block that was reserved in the
// running boot of the system and made durable:
//
//	block.K  the reservation of block K: the boot id of the system when it
//	         was made, written and fsynced under a temporary name, then
//	         linked into place exclusively, so it is whole when seen
//	ready.K  made once the entry of block.K is durable (the sidecar
//	         directory was fsynced after the link): whoever finds it need
//	         not fsync again
//
// Within one boot the kernel keeps every claim visible to every process,
// made durable or not. After a crash of the machine the claims that were
// not yet written to disk may be gone, but a block's reservation is not,
// since it was durable before any claim in it: the first claim in a new
// boot finds the reservations of an earlier boot and goes above the
// latest of them. So epochs never repeat or go backwards across power
// loss, and a takeover writes nothing that it has to wait for, unless it
// is the first in its boot or crosses into a block that no one reserved
// yet (the holder reserves the next block after it acquires).
//
// Where the system has no boot id (see bootID), each claim is made
// durable itself instead, before its epoch is used.

// defaultBlockSize is how many epochs one block reserves.
const defaultBlockSize = 1024

const (
	kindBlock = "block"
	kindReady = "ready"
)

// blockOf returns the block that holds epoch e.
func (f *File) blockOf(e uint64) uint64 { return (e-1)/f.blockSize + 1 }

// firstOf returns the first epoch of block k.
func (f *File) firstOf(k uint64) uint64 { return (k-1)*f.blockSize + 1 }

// lastOf returns the last epoch of block k.
func (f *File) lastOf(k uint64) uint64 { return k * f.blockSize }

// reserve returns the first epoch from next on that this participant may
// claim without making its claim durable: next itself, if its block was
// reserved in this boot and is durable; else the first epoch of a block
// above every block reserved so far, which reserve makes durable. Where
// claims are made durable themselves, it returns next, or the first epoch
// above every block if that is more.
func (f *File) reserve(l listing, next uint64) (uint64, error) {
	if f.boot == "" {
		// Claims are durable themselves; they go above every block, whose
		// epochs may have been used in a boot whose claims were lost.
		if len(l.blocks) > 0 {
			next = max(next, f.lastOf(last(l.blocks))+1)
		}
		return next, nil
	}
	for range 3 {
		k := f.blockOf(next)
		if k == f.usable {
			return next, nil
		}
		top := last(l.blocks)
		switch {
		case containsEpoch(l.blocks, k):
			ours, err := f.ourBlock(k)
			if err != nil {
				return 0, err
			}
			if ours {
				if !containsEpoch(l.ready, k) {
					if err := f.makeReady(k); err != nil {
						return 0, err
					}
				}
				f.usable = k
				return next, nil
			}
			// Reserved in an earlier boot: its epochs may have been used
			// then, and their claims lost in a crash.
			k = top + 1
		case k < top:
			// A later block stands; this one was removed with the files of
			// old epochs, or never made. Go above.
			k = top + 1
		}
		next = max(next, f.firstOf(k))
		made, err := f.makeBlock(k)
		if err != nil {
			return 0, err
		}
		if made {
			f.usable = k
			return next, nil
		}
		// Another participant reserved it first; read again.
		if l, err = f.list(); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("%w: blocks of epochs are being reserved", errContested)
}

// reserveAhead reserves the block after the one of epoch, if no one has:
// the holder does so once it has acquired, so that a successor crossing
// into that block need not wait for the disk. Errors are ignored; the
// successor then reserves it itself.
func (f *File) reserveAhead(epoch uint64) {
	if f.boot == "" {
		return
	}
	k := f.blockOf(epoch) + 1
	l, err := f.list()
	if err != nil || containsEpoch(l.blocks, k) || k > f.blockOf(MaxEpoch) {
		return
	}
	_, _ = f.makeBlock(k)
}

// ourBlock reports whether block k was reserved in this boot.
func (f *File) ourBlock(k uint64) (bool, error) {
	f.at("read:block")
	b, err := readFile(f.name(kindBlock, k))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // removed meanwhile: an old block
		}
		return false, fmt.Errorf("lease: read %s: %w", f.name(kindBlock, k), err)
	}
	return bytes.Equal(b, f.blockContent()) || f.revert.sameBlock, nil
}

func (f *File) blockContent() []byte { return []byte(f.boot + "\n") }

// makeBlock reserves block k durably for this boot. It reports false if
// another participant reserved it first.
func (f *File) makeBlock(k uint64) (bool, error) {
	f.at("create:block")
	tmp, err := os.CreateTemp(f.side, "blocktmp-*")
	if err != nil {
		return false, fmt.Errorf("lease: %w", err)
	}
	f.op(opCreate, tmp.Name(), "", nil)
	defer func() {
		f.op(opRemove, tmp.Name(), "", nil)
		_ = os.Remove(tmp.Name())
	}()
	f.at("write:block")
	content := f.blockContent()
	_, err = tmp.Write(content)
	f.op(opWrite, tmp.Name(), "", content)
	if err == nil && !f.revert.unsyncedBlock {
		f.at("sync:block")
		err = tmp.Sync()
		f.op(opSync, tmp.Name(), "", nil)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("lease: write %s: %w", tmp.Name(), err)
	}
	path := f.name(kindBlock, k)
	f.at("link:block")
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("lease: reserve %s: %w", path, err)
	}
	f.op(opLink, tmp.Name(), path, nil)
	return true, f.makeReady(k)
}

// makeReady makes the entry of block k durable and says so with ready.K.
func (f *File) makeReady(k uint64) error {
	if !f.revert.unsyncedBlock {
		if err := f.syncSide(); err != nil {
			return err
		}
	}
	path := f.name(kindReady, k)
	f.at("create:ready")
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	f.op(opCreate, path, "", nil)
	return fh.Close()
}

// syncSide makes the sidecar directory's entries durable.
func (f *File) syncSide() error {
	f.at("sync:side")
	if err := syncDir(f.side); err != nil {
		return fmt.Errorf("lease: sync %s: %w", f.side, err)
	}
	f.op(opSyncDir, f.side, "", nil)
	return nil
}
