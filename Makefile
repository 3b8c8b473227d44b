# leasehold: make test runs what CI runs; make bench measures failover.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
EVENTS      ?= 200

BIN         := bin

.PHONY: all build test vet lint cover bench fuzz demo run clean

all: build test

build:
	$(GO) build ./...
	$(GO) build -o $(BIN)/example ./examples/app
	$(GO) build -o $(BIN)/leasedemo ./cmd/leasedemo

# Three copies of the example app on one lease: kill the owner, stop the
# next, freeze the last past its TTL; prints the timeline.
demo: build
	$(BIN)/leasedemo -app $(BIN)/example

# One copy of the example app; run it in several terminals.
run: build
	$(BIN)/example -config configs/owner.yaml

vet:
	GOOS=linux   $(GO) vet ./...
	GOOS=darwin  $(GO) vet ./...
	GOOS=windows $(GO) vet ./...

test: vet
	$(GO) test -race ./...

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) run $(STATICCHECK) ./...

cover:
	$(GO) test -coverprofile=cover.out ./...
	$(GO) tool cover -func=cover.out | tail -1

# Micro-benchmarks, then failover between real processes: $(EVENTS) crashes
# (SIGKILL), releases (SIGTERM) and hangs (SIGSTOP), and the CPU of an idle
# owner and 16 followers.
bench:
	$(GO) test -run '^$$' -bench 'JoinRelease|Renew|Check' -benchmem ./owner/
	$(GO) test -run '^$$' -bench 'Failover' -benchtime $(EVENTS)x ./owner/
	$(GO) test -run '^$$' -bench 'IdleCPU' -benchtime 1x ./owner/

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeRecord -fuzztime $(FUZZTIME) ./lease/

clean:
	rm -rf cover.out $(BIN)
