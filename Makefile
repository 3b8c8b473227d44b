# leasehold: make test runs what CI runs; make bench measures failover.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
EVENTS      ?= 100
CHAOS       ?= 10m
CHAOS_SHORT ?= 20s

BIN         := bin

.PHONY: all build test test-etcd vet lint cover bench bench-etcd chaos chaos-file chaos-etcd explore fuzz demo demo-run run etcd run-etcd clean

all: build test

build:
	$(GO) build ./...
	$(GO) build -o $(BIN)/example ./examples/app
	$(GO) build -o $(BIN)/leasedemo ./cmd/leasedemo
	$(GO) build -o $(BIN)/leaseworker ./cmd/leaseworker
	$(GO) build -o $(BIN)/leasechaos ./cmd/leasechaos
	$(GO) build -o $(BIN)/leasebench ./cmd/leasebench
	$(GO) build -o $(BIN)/leasehold ./cmd/leasehold

# Three copies of the example app on one lease: kill the owner, stop the
# next, freeze the last past its TTL; prints the timeline.
demo: build
	$(BIN)/leasedemo -app $(BIN)/example

# Three supervisors of one shell loop that prints its epoch, as leasehold
# run does: kill the active supervisor (its child dies with it and the next
# starts), then stop the next with SIGTERM (forwarded; it exits with its
# child's status).
demo-run: build
	$(BIN)/leasedemo -run -leasehold $(BIN)/leasehold

# One copy of the example app; run it in several terminals.
run: build
	$(BIN)/example -config configs/owner.yaml

# A real etcd server, one member on 127.0.0.1:2379 with its data in
# $(ETCD_DATA), built from etcd's own module (a tool of etcdlease/go.mod):
# no binary to download. For the example on etcd.
ETCD_DATA ?= out/etcd
etcd:
	mkdir -p $(ETCD_DATA)
	cd etcdlease && $(GO) tool go.etcd.io/etcd/server/v3 --name leasehold-example \
		--data-dir $(abspath $(ETCD_DATA)) --log-level warn \
		--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster leasehold-example=http://127.0.0.1:2380

# One copy of the example app on that etcd, as one host; run it in several
# terminals.
run-etcd:
	cd etcdlease && OWNER_STORE=etcd OWNER_ETCD_ENDPOINTS=127.0.0.1:2379 OWNER_ETCD_KEY=/leasehold/example \
		OWNER_TTL=2s $(GO) run ./example -config ""

vet:
	GOOS=linux   $(GO) vet ./...
	GOOS=darwin  $(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	cd etcdlease && GOOS=darwin $(GO) vet ./... && GOOS=windows $(GO) vet ./...

test: vet
	$(GO) test -race ./...
	$(GO) test -count=1 -run Explore ./lease/
	$(GO) run ./cmd/leasechaos -duration $(CHAOS_SHORT) -progress 0
	$(MAKE) test-etcd

# The etcd store, a module of its own (etcdlease/): vet, and its tests
# against a three-member etcd cluster embedded in the test binary, with
# workers as real processes, and 20s of chaos on such a cluster
# (leasechaos-etcd). About two minutes on 2 cores, plus the first build
# of etcd.
test-etcd:
	cd etcdlease && $(GO) vet ./... && $(GO) test -race ./...

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) run $(STATICCHECK) ./...
	cd etcdlease && $(GO) run $(STATICCHECK) ./...

cover:
	$(GO) test -coverprofile=cover.out ./...
	$(GO) tool cover -func=cover.out | tail -1

# The figures of docs/BENCHMARKS.md. The headline is the loaded scenario:
# 6 processes on one lease, TTL 400ms, the owner appending a line beside the
# lease every 0.5ms, $(EVENTS) each of crash, graceful release, hang and
# follower kill at random, a supervisor restarting what exits; the idle cost
# of an owner and 15 followers over $(IDLE); 64 simultaneous joins beside a
# working fleet. Then the quiet-machine column ($(EVENTS) of each fault
# kind, one kind at a time, after a sync and a pause), the micro-benchmarks,
# and $(BENCH_CHAOS) of chaos for this library and for a naive lease. About
# eight minutes on 2 cores (six with EVENTS=60). A short run: make bench
# EVENTS=30 JOINS=5; some sections only, without the micro-benchmarks:
# make bench ONLY=loaded. Writes bench.json and the plots to $(BENCH_OUT);
# the chaos events go to out/bench. Then the etcd column (bench-etcd).
JOINS       ?= 20
IDLE        ?= 30s
WARMUP      ?= 5s
BENCH_CHAOS ?= 1m
BENCH_OUT   ?= docs/bench
BENCH_SEED  ?= 1
ONLY        ?=
bench: build
	mkdir -p out/bench
	$(if $(ONLY),,$(GO) test -run '^$$' -bench 'JoinRelease|JoinFresh|JoinFollower|Renew|Check' -benchmem ./owner/ | tee out/bench/micro.txt)
	$(BIN)/leasebench -worker $(BIN)/leaseworker -events $(EVENTS) -joins $(JOINS) -idle $(IDLE) -warmup $(WARMUP) \
		-chaos $(BENCH_CHAOS) -seed $(BENCH_SEED) -out $(BENCH_OUT) $(if $(ONLY),-only $(ONLY),-micro out/bench/micro.txt)
	$(if $(ONLY),,$(MAKE) bench-etcd)

# The etcd column of docs/BENCHMARKS.md: a three-member etcd cluster on
# loopback (fsync on, data under $(TMPDIR) or /tmp), TTL 2s; for etcdlease
# and for etcd's own concurrency.Election, $(ETCD_EVENTS) each of crash,
# graceful release, hang and follower kill at random under the loaded
# scenario's load; the idle cost of an owner alone and of an owner and 15
# followers (CPU, and the requests etcd receives); $(ETCD_JOINS) rounds of
# 1 and of 64 simultaneous Joins (etcdlease). About twelve minutes on 2
# cores. Writes bench-etcd.json to $(BENCH_OUT).
ETCD_EVENTS ?= 20
ETCD_JOINS  ?= 10
bench-etcd:
	cd etcdlease && $(GO) build -o ../$(BIN)/leasebench-etcd ./cmd/leasebench-etcd
	$(BIN)/leasebench-etcd -events $(ETCD_EVENTS) -joins $(ETCD_JOINS) -idle $(IDLE) -warmup $(WARMUP) \
		-seed $(BENCH_SEED) -out $(BENCH_OUT)

# A long chaos soak (CHAOS=10m by default) with 8 workers and TTL 400ms;
# exits non-zero on any safety violation. STORE=etcd runs it on a
# three-member etcd cluster on loopback, embedded in leasechaos-etcd, with
# 6 workers and TTL 2s, and without the record-damage fault (no record
# file there).
STORE ?= file
chaos: chaos-$(STORE)

chaos-file: build
	mkdir -p out
	$(BIN)/leasechaos -worker $(BIN)/leaseworker -duration $(CHAOS) -out out/chaos.jsonl -report out/chaos-report.json

chaos-etcd:
	mkdir -p out
	cd etcdlease && $(GO) build -o ../$(BIN)/leasechaos-etcd ./cmd/leasechaos-etcd
	$(BIN)/leasechaos-etcd -duration $(CHAOS) -out out/chaos-etcd.jsonl -report out/chaos-etcd-report.json

# The schedule explorer for EXPLORE (5m by default): seeded schedules of
# the file lease's protocol, freezing, killing and resuming participants at
# every step on a fake clock; prints the schedules and distinct
# interleavings covered, and fails with a seed to replay on any violation.
EXPLORE ?= 5m
EXPLORE_SEED ?= 1
explore:
	$(GO) test -count=1 -run '^TestExplore$$' -v -timeout 0 ./lease/ -explore.duration=$(EXPLORE) -explore.seed=$(EXPLORE_SEED)

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeRecord -fuzztime $(FUZZTIME) ./lease/

clean:
	rm -rf cover.out $(BIN) out
