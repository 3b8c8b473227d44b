// Command app is the example application of the README, on the file store:
// an fx application that elects one owner among its running copies with
// ownerfx. Run it in three terminals and stop, kill or freeze the owner to
// watch another take over:
//
//	go run ./examples/app -config configs/owner.yaml
//
// See package internal/exampleapp for what it prints and its exit codes.
package main

import "github.com/leasehold/leasehold/internal/exampleapp"

func main() { exampleapp.Main(nil) }
