# palmd — see README.md. Every target installs what it needs first.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
APT_PKGS    := libopencv-dev pkg-config
BIN         := bin

.PHONY: all deps run test bench lint build clean fleet

all: lint test

# deps installs OpenCV (for gocv) from Debian when it is missing and fetches
# the Go modules. It needs root (or sudo) only the first time.
deps:
	@if ! pkg-config --exists opencv4 2>/dev/null; then \
		echo "installing $(APT_PKGS)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PKGS) gcc g++ libc6-dev; \
	fi
	$(GO) mod download

build: deps
	$(GO) build -o $(BIN)/ ./cmd/...

# run plays the demo on simulated hardware with an embedded NATS server and
# the reference cloud, printing the kiosk's events.
run: build
	$(BIN)/palmd -hw=sim -scenario=demo

# test: vet; every test under the race detector, with the long statistical
# evaluations shortened (-short); then every test in full without it (the
# held-out vision figures, the privacy and Linux-rig runs of the whole daemon).
test: deps
	$(GO) vet ./...
	$(GO) test -race -short -count=1 ./...
	$(GO) test -count=1 ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=6 ./vision/... ./uplink/... | tee bench.out
	$(GO) run $(BENCHSTAT) bench.out
	# 1:N search at 10,000, 100,000 and 1,000,000 enrolled, every genuine probe once (about 6 minutes)
	$(GO) test -run '^$$' -bench 'Search' -benchtime=1469x -count=1 ./uplink/cloud/index/

# fleet: the load tool against a three-server NATS cluster with JetStream and
# two cloud instances in this process: 1,000 kiosks, one identification each
# every 5 s, 10,000 people enrolled; then the same run with one server killed
# at half time. Each run ends with one JSON line (the last line is the second's).
fleet: deps
	$(GO) run ./cmd/palmload -kiosks 1000 -interval 5s -duration 60s -enrolled 10000 -nodes 3 -clouds 2
	$(GO) run ./cmd/palmload -kiosks 1000 -interval 5s -duration 60s -enrolled 10000 -nodes 3 -clouds 2 -kill-node

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf $(BIN) bench.out
