//go:build !unix

package supervise_test

// childMain: the process tests run on Unix only.
func childMain() int { return 99 }
