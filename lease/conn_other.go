//go:build !linux

package lease

import "net"

// readConn reads from a follower's connection to the holder.
func readConn(c net.Conn, buf []byte) (int, error) { return c.Read(buf) }

// writeConn writes b to a follower's connection, giving up on a follower
// that has not read for so long that its socket's buffer is full.
func writeConn(c net.Conn, b []byte) error { return writeConnDeadline(c, b) }
