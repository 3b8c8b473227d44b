// Command leaseworker is the worker process of leasechaos and leasebench:
// it joins the election described by its environment through the public
// owner API and reports every event on its standard output (see package
// internal/worker). It is a binary of its own so that the processes being
// measured carry nothing but the library.
package main

import (
	"fmt"
	"os"

	"github.com/leasehold/leasehold/internal/worker"
)

func main() {
	if !worker.Active() {
		fmt.Fprintln(os.Stderr, "leaseworker: run by leasechaos and leasebench, which set "+worker.EnvPath)
		os.Exit(2)
	}
	os.Exit(worker.Main())
}
