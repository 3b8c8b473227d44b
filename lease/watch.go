package lease

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// The holder of a lease listens on sock.N and, after each publication,
// writes to every connection what it published: its epoch, the count in
// its beat and the record's bytes. A follower connected to it takes that
// as having read the lease then, so a renewal restarts its expiry clock
// without waking anything but the connection's reader and without reading
// a file; and it reads end-of-file the moment the holder's process dies or
// its tenure ends, so it neither polls nor waits for a TTL.
//
// Each message tells the follower its rank among the connections, in the
// order they were made. When the holder goes, the follower ranked first
// tries to take over at once and the others a little later each, so that
// they do not all contend at the same instant. A connection starts with
// one byte that says who made it: a follower (helloFollower) or an
// Observer (helloObserver), which never contends; observers rank after
// every follower, so that they delay no takeover.

// A message is one publication, as sent to a follower.
type message struct {
	epoch uint64
	seq   uint64 // the beat's count after the publication
	rank  int    // the follower's rank among the holder's connections
	rec   []byte // the record's bytes, as renamed into place
}

// msgHeader is the size of a message before the record: the record's
// length (4 bytes), epoch and seq (8 each) and rank (4), big-endian.
const msgHeader = 24

// maxMsgRecord bounds the record in a message; a longer one ends the
// connection as garbage.
const maxMsgRecord = 1 << 16

// The first byte of a connection.
const (
	helloFollower = 'f'
	helloObserver = 'o'
)

// helloWait bounds the wait for a connection's first byte; a connection
// that sends none by then (a participant of an earlier version) counts as
// a follower.
const helloWait = 50 * time.Millisecond

// notifier is the holder's side. A nil *notifier does nothing.
type notifier struct {
	ln      *net.UnixListener
	mu      sync.Mutex
	conns   []net.Conn // the followers', in the order they connected: their ranks
	watched []net.Conn // the observers', ranked after them
	closed  bool
	pending map[net.Conn]bool // connections whose first byte is awaited
	greet   sync.WaitGroup    // their greeters
	done    chan struct{}
	// sent, if set by a test, is given every message.
	sent func(message)
}

// listen starts the notifier of epoch. Without one (the path is too long,
// or sockets are not supported) followers poll instead.
func (l *fileLease) listen(epoch uint64) {
	path := l.f.name(kindSock, epoch)
	if len(path) > maxSockPath {
		return
	}
	l.f.at("listen:sock")
	_ = os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return
	}
	if l.f.track != nil {
		l.f.track(ln)
	}
	n := &notifier{ln: ln, done: make(chan struct{}), sent: l.f.sent}
	go n.accept()
	l.n = n
}

// closeNotifier stops the notifier, ending every follower's connection.
func (l *fileLease) closeNotifier() {
	if l.n != nil {
		l.f.at("close:sock")
		l.n.close()
	}
}

func (n *notifier) accept() {
	defer close(n.done)
	for {
		c, err := n.ln.Accept()
		if err != nil {
			return
		}
		n.mu.Lock()
		if n.pending == nil {
			n.pending = map[net.Conn]bool{}
		}
		n.pending[c] = true
		n.mu.Unlock()
		n.greet.Go(func() { n.hello(c) })
	}
}

// hello reads the first byte of c and adds c to the followers or the
// observers.
func (n *notifier) hello(c net.Conn) {
	b := []byte{helloFollower}
	if c.SetReadDeadline(time.Now().Add(helloWait)) == nil {
		_, _ = c.Read(b)
		_ = c.SetReadDeadline(time.Time{})
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.pending, c)
	switch {
	case n.closed:
		c.Close()
	case b[0] == helloObserver:
		n.watched = append(n.watched, c)
	default:
		n.conns = append(n.conns, c)
	}
}

// notify sends a publication to every follower connected.
func (n *notifier) notify(epoch, seq uint64, rec []byte) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sent != nil {
		n.sent(message{epoch: epoch, seq: seq, rec: slices.Clone(rec)})
	}
	if len(n.conns)+len(n.watched) == 0 || len(rec) > maxMsgRecord {
		return
	}
	b := make([]byte, msgHeader+len(rec))
	binary.BigEndian.PutUint32(b[0:], uint32(len(rec)))
	binary.BigEndian.PutUint64(b[4:], epoch)
	binary.BigEndian.PutUint64(b[12:], seq)
	copy(b[msgHeader:], rec)
	n.conns = send(n.conns, b, 0)
	n.watched = send(n.watched, b, len(n.conns))
}

// send writes b to each of conns, ranked from first up, and returns those
// it could write to; it closes the others.
func send(conns []net.Conn, b []byte, first int) []net.Conn {
	live := conns[:0]
	for _, c := range conns {
		binary.BigEndian.PutUint32(b[20:], uint32(first+len(live)))
		if err := writeConn(c, b); err != nil {
			c.Close()
			continue
		}
		live = append(live, c)
	}
	clear(conns[len(live):])
	return live
}

// writeConnDeadline writes b to c, giving up after a short while.
func writeConnDeadline(c net.Conn, b []byte) error {
	if err := c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

func (n *notifier) close() {
	if n == nil {
		return
	}
	n.ln.Close()
	<-n.done
	n.mu.Lock()
	n.closed = true
	for _, c := range append(n.conns, n.watched...) {
		c.Close()
	}
	for c := range n.pending {
		c.Close() // its greeter returns at once
	}
	n.conns, n.watched = nil, nil
	n.mu.Unlock()
	n.greet.Wait()
}

// watcher is a follower's connection to the holder of one epoch.
type watcher struct {
	epoch   uint64
	conn    net.Conn
	rank    int           // as the holder last told; under File.mu
	got     int           // messages received; under File.mu
	changed chan struct{} // a publication came that was not a renewal seen before
	dead    chan struct{} // closed at end-of-file or error
}

// errNoSocket means that the lease's path is too long for a socket, so
// its holders serve none.
var errNoSocket = errors.New("lease: path too long for a socket")

// dial connects f to the socket of the holder of epoch.
func (f *File) dial(epoch uint64) (*watcher, error) {
	path := f.name(kindSock, epoch)
	if len(path) > maxSockPath {
		return nil, errNoSocket
	}
	c, err := net.DialTimeout("unix", path, 50*time.Millisecond)
	if err != nil {
		return nil, err
	}
	hello := []byte{helloFollower}
	if f.observer {
		hello[0] = helloObserver
	}
	if err := writeConn(c, hello); err != nil {
		c.Close()
		return nil, err
	}
	w := &watcher{epoch: epoch, conn: c, changed: make(chan struct{}, 1), dead: make(chan struct{})}
	f.readers.Add(1)
	go f.receive(w)
	return w, nil
}

// receive receives the holder's messages until the connection ends.
func (f *File) receive(w *watcher) {
	defer f.readers.Done()
	defer close(w.dead)
	var buf []byte
	chunk := make([]byte, 2048)
	for {
		n, err := readConn(w.conn, chunk)
		if err != nil {
			return
		}
		buf = append(buf, chunk[:n]...)
		for len(buf) >= msgHeader {
			size := binary.BigEndian.Uint32(buf)
			if size > maxMsgRecord {
				return
			}
			if len(buf) < msgHeader+int(size) {
				break
			}
			m := message{
				epoch: binary.BigEndian.Uint64(buf[4:]),
				seq:   binary.BigEndian.Uint64(buf[12:]),
				rank:  int(binary.BigEndian.Uint32(buf[20:])),
				rec:   slices.Clone(buf[msgHeader : msgHeader+int(size)]),
			}
			buf = append(buf[:0], buf[msgHeader+int(size):]...)
			f.mu.Lock()
			if f.w == w {
				w.rank = m.rank
				w.got++
				if !f.heard(m) {
					select {
					case w.changed <- struct{}{}:
					default:
					}
				}
			}
			f.mu.Unlock()
		}
	}
}

// heard takes a publication the holder of the watched epoch announced as
// this participant having read the lease now, and reports true, if it is a
// renewal of the tenure it saw last: the latest epoch claimed, and
// published, its record included. Epochs above it that were never used (a
// withdrawn claim, a tombstone) do not count: no one can publish at them,
// and a takeover that withdrew would otherwise leave every renewal of the
// holder waking every follower. Its expiry clock then starts again, as it would on
// reading the record and the beat the holder wrote, which only ever delays
// a takeover. It reports false for anything else, which needs the files
// read again. (A read sees the record before the beats: it may see the
// first beat of a holder whose record it missed, and has then returned the
// predecessor's record as the holder's, which the next read corrects.)
func (f *File) heard(m message) bool {
	if !f.seenOnce || m.epoch != f.watch || f.seenClaim != m.epoch ||
		len(f.seenBeatsOf) != 1 || f.seenBeatsOf[0] != m.epoch || f.seenRecOf != m.epoch {
		return false
	}
	if m.seq <= f.seenSeq {
		// A publication this participant has read already, or an older
		// one, arriving late: nothing has changed, and the clock must not
		// start again.
		return true
	}
	f.seen, f.seenExists = m.rec, true
	f.seenBeats, f.seenSeq = appendBeat(nil, m.epoch, beatOf(m.seq)), m.seq
	f.seenAt = f.clk.Now()
	f.suspect = 0
	if f.expiry != nil {
		f.expiry.Reset(f.untilExpiry())
	}
	if !f.revert.lockNext {
		f.contested, f.contestedAt = 0, time.Time{}
	}
	return true
}

// close ends the connection; its reader then exits (File.Close waits).
func (w *watcher) close() { w.conn.Close() }
