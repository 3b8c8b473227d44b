//go:build unix && !linux

package supervise

import "syscall"

// parentDeath does nothing: these systems have no parent-death signal, so
// a child outlives a supervisor that is killed (see the package
// documentation).
func parentDeath(*syscall.SysProcAttr) {}

// exited does nothing: without a wait that leaves the child unreaped,
// what it left in its group cannot be killed without the risk of naming
// a group that reused its id.
func (*platform) exited(int) {}
