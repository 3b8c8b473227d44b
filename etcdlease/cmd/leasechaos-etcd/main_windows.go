//go:build windows

package main

import (
	"fmt"
	"os"
)

// The chaos tool freezes processes with SIGSTOP, which Windows lacks.
func main() {
	fmt.Fprintln(os.Stderr, "leasechaos-etcd: not supported on Windows (it needs SIGSTOP and SIGCONT)")
	os.Exit(2)
}
