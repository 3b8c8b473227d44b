// Package mono reads a clock that all processes on the machine share and
// that never jumps, to order events recorded by different processes.
package mono
