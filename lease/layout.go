package lease

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The files of a lease at path P:
//
//	P          the record, replaced only by an atomic rename
//	P.d/       the sidecar directory (0700), beside P
//	  claim.N  the claim of epoch N: a record, created exclusively; durable
//	           before epoch N is used, by its block or by an fsync.
//	           Or a directory, the tombstone of an epoch skipped because
//	           its candidate froze before claiming it: made exclusively
//	           too, so that the epoch can never be claimed afterwards
//	  live.N   locked by the claimant of epoch N, from before its claim
//	           until its tenure ends; the kernel drops the lock when the
//	           process dies
//	  tmp.N    where the holder of epoch N stages P; a successor removes it,
//	           so a stale holder's rename fails
//	  sock.N   the notification socket of the claimant of epoch N
//	  void.N   marks the claim of epoch N withdrawn: its claimant gave it up
//	           before publishing, and the epoch is never used
//	  beat.N   the count of the record's publications by the holder of
//	           epoch N, rewritten after each: what a follower compares to
//	           know that the holder renewed, even if the record was
//	           deleted or damaged since
//	  block.K  the reservation of the block K of epochs, naming the boot
//	           it was made in; ready.K says that it is durable (see
//	           block.go)
const (
	kindClaim = "claim"
	kindLive  = "live"
	kindTmp   = "tmp"
	kindSock  = "sock"
	kindBeat  = "beat"
	kindVoid  = "void"
)

// keepEpochs is how many epochs below its own a new holder leaves in the
// sidecar directory; older files are removed.
const keepEpochs = 8

// maxSockPath is the longest socket path used; longer ones exceed
// sun_path on some systems, and such leases fall back to polling.
const maxSockPath = 100

func (f *File) name(kind string, epoch uint64) string {
	return filepath.Join(f.side, kind+"."+strconv.FormatUint(epoch, 10))
}

// listing is what the sidecar directory holds, by kind, in ascending order.
type listing struct {
	claims []uint64 // claim files, not withdrawn: epochs taken by a candidate
	tombs  []uint64 // claim directories and withdrawn claims: epochs never used
	temps  []uint64
	blocks []uint64 // reserved blocks of epochs; see reserve
	ready  []uint64 // those known durable
}

// top is the latest epoch taken, claimed or skipped; 0 if none.
func (l listing) top() uint64 { return max(last(l.claims), last(l.tombs)) }

// topClaim is the latest epoch a candidate claimed; 0 if none.
func (l listing) topClaim() uint64 { return last(l.claims) }

func last(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

func parseName(name string) (kind string, epoch uint64, ok bool) {
	kind, num, found := strings.Cut(name, ".")
	if !found {
		return "", 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 || n > MaxEpoch {
		return kind, 0, false
	}
	return kind, n, true
}

func (f *File) list() (listing, error) {
	f.at("list:side")
	ents, err := os.ReadDir(f.side)
	if err != nil {
		return listing{}, fmt.Errorf("lease: list %s: %w", f.side, err)
	}
	var l listing
	void := map[uint64]bool{}
	for _, e := range ents {
		kind, n, ok := parseName(e.Name())
		if !ok {
			continue
		}
		switch {
		case kind == kindClaim && e.IsDir():
			l.tombs = append(l.tombs, n)
		case kind == kindClaim:
			l.claims = append(l.claims, n)
		case kind == kindTmp:
			l.temps = append(l.temps, n)
		case kind == kindVoid:
			void[n] = true
		case kind == kindBlock:
			l.blocks = append(l.blocks, n)
		case kind == kindReady:
			l.ready = append(l.ready, n)
		}
	}
	if len(void) > 0 {
		claims := l.claims[:0:0]
		for _, n := range l.claims {
			if void[n] {
				l.tombs = append(l.tombs, n)
			} else {
				claims = append(claims, n)
			}
		}
		l.claims = claims
	}
	slices.Sort(l.claims)
	slices.Sort(l.tombs)
	slices.Sort(l.temps)
	slices.Sort(l.blocks)
	slices.Sort(l.ready)
	return l, nil
}

// collect removes the files of epochs below holder-keepEpochs, and the
// reservations of blocks below the holder's. Errors are ignored: what is
// left is removed by a later holder.
func (f *File) collect(holder uint64) {
	f.at("collect:side")
	ents, err := os.ReadDir(f.side)
	if err != nil {
		return
	}
	for _, e := range ents {
		kind, n, ok := parseName(e.Name())
		if !ok {
			continue
		}
		switch kind {
		case kindBlock, kindReady:
			ok = n < f.blockOf(holder)
		case kindClaim, kindLive, kindTmp, kindSock, kindVoid, kindBeat:
			ok = n+keepEpochs < holder
		default:
			ok = false
		}
		if ok {
			path := filepath.Join(f.side, e.Name())
			if os.Remove(path) == nil {
				f.op(opRemove, path, "", nil)
			}
		}
	}
}
