//go:build windows

package main

import (
	"fmt"
	"os"
)

// The benchmark freezes processes with SIGSTOP, which Windows lacks.
func main() {
	fmt.Fprintln(os.Stderr, "leasebench-etcd: not supported on Windows (it needs SIGSTOP and SIGCONT)")
	os.Exit(2)
}
