# peerlab — `make help` lists the targets.
GO        ?= go
BIN       ?= bin/peerlab
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
TOPOLOGY  ?= topologies/quickstart.yaml
# Packages whose tests need root (network namespaces, real daemons) run
# serially after the others to keep a 2-core machine responsive.
TESTFLAGS ?= -count=1 -timeout 20m

.PHONY: help build run test test-short bench bench-inject lint daemons clean fuzz-short proto proto-check

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build bin/peerlab and, beside it, the gobgp nodes' agent bin/peerlab-gobgpd
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/peerlab
	$(GO) build -o $(dir $(BIN))peerlab-gobgpd ./cmd/peerlab-gobgpd

run: build ## run the quickstart lab (no root needed); TOPOLOGY=file to pick another
	./$(BIN) run $(TOPOLOGY)

daemons: ## install the real daemons the tests use (BIRD 1.6, BIRD 2, nginx, tshark, nftables); needs root
	bash .ci/install-daemons.sh

test: ## run every test (installs the daemons first when run as root)
	@if [ "$$(id -u)" = 0 ]; then bash .ci/install-daemons.sh; else echo "not root: privileged tests will be skipped"; fi
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) -p 1 ./...

test-short: ## run the unit tests only (no root, no daemons)
	$(GO) test -count=1 -short ./...

bench: ## run every benchmark, each scale run in its own process (see docs/benchmarks.md)
	$(GO) test -run '^$$' -bench RouteReflector1000 -benchtime 1x -timeout 30m ./lab/
	$(GO) test -run '^$$' -bench 'Establish1000$$' -benchtime 1x ./speaker/
	$(GO) test -run '^$$' -bench 'Establish1000' -benchtime 1x ./speaker/ -args -raw-gobgp
	$(GO) test -run '^$$' -bench . -benchtime 3x ./capture/
	$(GO) test -run '^$$' -bench . ./lab/topology/
	$(GO) test -run '^$$' -bench Load -benchtime 3x ./speaker/inject/
	$(GO) test -run '^$$' -bench DiagnoseArtifacts -benchtime 3x ./diagnose/
	$(GO) test -run '^$$' -bench ProcessStart -benchtime 200x ./cmd/peerlab/
	@if [ "$$(id -u)" = 0 ]; then \
		$(GO) test -run '^$$' -bench 'CreateDestroy100$$' -benchtime 5x ./internal/netns/ && \
		$(GO) test -run '^$$' -bench CreateDestroy1000 -benchtime 1x ./internal/netns/ && \
		$(GO) test -run '^$$' -bench BIRDMesh20 -benchtime 3x ./lab/ && \
		$(GO) test -run '^$$' -bench UpKubespray20 -benchtime 1x ./cmd/peerlab/ && \
		$(MAKE) bench-inject; \
	else echo "not root: skipping the namespace benchmarks"; fi

INJECT_N ?= 100000
bench-inject: build ## as root: peerlab vs BIRD vs ExaBGP injecting INJECT_N /24s into BIRD (INJECT_N=1000000 for a full table)
	$(BIN) bench inject -n $(INJECT_N)

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean: ## remove build output
	rm -rf bin

# -fuzzminimizetime 1s: by default each new interesting input is minimised
# for up to 60 s, which stalls a 10 s run (15k execs instead of 56k).
fuzz-short: ## run each fuzz target of capture/ for 10 s, one at a time
	@targets=$$($(GO) test -list '^Fuzz' ./capture/ | grep '^Fuzz'); \
	if [ -z "$$targets" ]; then echo "no fuzz targets found in ./capture/"; exit 1; fi; \
	for f in $$targets; do \
		echo "fuzz $$f (10s)"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime 10s -fuzzminimizetime 1s ./capture/ || exit 1; \
	done

proto: ## lint proto/ and regenerate its Go code (buf and the plugins are go tool dependencies)
	$(GO) tool buf lint
	$(GO) tool buf generate

proto-check: ## fail if buf lint complains or the committed generated Go differs from a fresh generation
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(GO) tool buf lint || exit 1; \
	$(GO) tool buf generate --output "$$tmp" || exit 1; \
	mkdir -p "$$tmp/committed"; \
	(cd proto && find . -name '*.pb.go' -exec cp --parents {} "$$tmp/committed" \;) || exit 1; \
	if ! diff -r "$$tmp/committed" "$$tmp/proto" >/dev/null; then \
		echo "generated protobuf code is stale: run 'make proto' and commit"; diff -r "$$tmp/committed" "$$tmp/proto" | head -40; exit 1; \
	fi; echo "proto: generated code up to date"
