package exampleapp

import (
	"iter"
	"strings"
)

func splitLines(b []byte) iter.Seq[string] {
	return strings.SplitSeq(strings.TrimSpace(string(b)), "\n")
}
