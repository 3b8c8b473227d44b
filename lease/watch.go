package lease

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// The holder of a lease listens on sock.N and writes one byte to every
// connection after each publication. A follower connected to it learns of a
// renewal at once, and reads end-of-file the moment the holder's process
// dies or its tenure ends, so it neither polls nor waits for a TTL.

// notifier is the holder's side. A nil *notifier does nothing.
type notifier struct {
	ln    *net.UnixListener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  chan struct{}
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
	n := &notifier{ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
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
		if n.conns == nil {
			c.Close()
		} else {
			n.conns[c] = struct{}{}
		}
		n.mu.Unlock()
	}
}

func (n *notifier) notify() {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	deadline := time.Now().Add(10 * time.Millisecond)
	for c := range n.conns {
		_ = c.SetWriteDeadline(deadline)
		if _, err := c.Write([]byte{1}); err != nil {
			c.Close()
			delete(n.conns, c)
		}
	}
}

func (n *notifier) close() {
	if n == nil {
		return
	}
	n.ln.Close()
	<-n.done
	n.mu.Lock()
	for c := range n.conns {
		c.Close()
	}
	n.conns = nil
	n.mu.Unlock()
}

// watcher is a follower's connection to the holder of one epoch.
type watcher struct {
	epoch   uint64
	conn    net.Conn
	changed chan struct{} // a publication was announced
	dead    chan struct{} // closed at end-of-file or error
}

// errNoSocket means that the lease's path is too long for a socket, so
// its holders serve none.
var errNoSocket = errors.New("lease: path too long for a socket")

func dial(path string, epoch uint64) (*watcher, error) {
	if len(path) > maxSockPath {
		return nil, errNoSocket
	}
	c, err := net.DialTimeout("unix", path, 50*time.Millisecond)
	if err != nil {
		return nil, err
	}
	w := &watcher{epoch: epoch, conn: c, changed: make(chan struct{}, 1), dead: make(chan struct{})}
	go w.read()
	return w, nil
}

func (w *watcher) read() {
	defer close(w.dead)
	var buf [64]byte
	for {
		if _, err := w.conn.Read(buf[:]); err != nil {
			return
		}
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
}

func (w *watcher) close() {
	w.conn.Close()
	<-w.dead
}
