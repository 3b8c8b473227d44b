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
//	  claim.N  the claim of epoch N: a record, created exclusively and
//	           fsynced before epoch N is used; the durable epoch counter
//	  live.N   locked by the claimant of epoch N, from before its claim
//	           until its tenure ends; the kernel drops the lock when the
//	           process dies
//	  tmp.N    where the holder of epoch N stages P; a successor removes it,
//	           so a stale holder's rename fails
//	  sock.N   the notification socket of the claimant of epoch N
const (
	kindClaim = "claim"
	kindLive  = "live"
	kindTmp   = "tmp"
	kindSock  = "sock"
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
	claims []uint64
	temps  []uint64
}

func (l listing) top() uint64 {
	if len(l.claims) == 0 {
		return 0
	}
	return l.claims[len(l.claims)-1]
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
	ents, err := os.ReadDir(f.side)
	if err != nil {
		return listing{}, fmt.Errorf("lease: list %s: %w", f.side, err)
	}
	var l listing
	for _, e := range ents {
		kind, n, ok := parseName(e.Name())
		if !ok {
			continue
		}
		switch kind {
		case kindClaim:
			l.claims = append(l.claims, n)
		case kindTmp:
			l.temps = append(l.temps, n)
		}
	}
	slices.Sort(l.claims)
	slices.Sort(l.temps)
	return l, nil
}

// collect removes the files of epochs below holder-keepEpochs. Errors are
// ignored: what is left is removed by a later holder.
func (f *File) collect(holder uint64) {
	ents, err := os.ReadDir(f.side)
	if err != nil {
		return
	}
	for _, e := range ents {
		if _, n, ok := parseName(e.Name()); ok && n+keepEpochs < holder {
			_ = os.Remove(filepath.Join(f.side, e.Name()))
		}
	}
}
