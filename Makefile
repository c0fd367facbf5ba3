# palmd — see README.md. Every target installs what it needs first.

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
APT_PKGS    := libopencv-dev pkg-config
BIN         := bin
VERSION     := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
# The simulation build: palmd with the simulators, the embedded NATS server
# and the reference cloud. Tests, scenarios and `make run` use it.
SIM         := -tags sim

.PHONY: all deps run test hil eval bench lint build clean fleet

all: lint test

# deps installs OpenCV (for gocv) from Debian when it is missing and fetches
# the Go modules. It needs root (or sudo) only the first time. It prints
# only to standard error, so that `make run | jq` reads events alone.
deps:
	@if ! pkg-config --exists opencv4 2>/dev/null; then \
		echo "installing $(APT_PKGS)" >&2; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq >&2 && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PKGS) gcc g++ libc6-dev >&2; \
	fi
	@$(GO) mod download >&2

# build: bin/palmd is the production daemon (Linux drivers and the real
# uplink only); bin/palmd-sim is the same command built with the simulator.
build: deps
	@$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/... >&2
	@$(GO) build $(SIM) -ldflags '$(LDFLAGS)' -o $(BIN)/palmd-sim ./cmd/palmd >&2

# run plays the demo on simulated hardware with an embedded NATS server and
# the reference cloud: a live view on a terminal, JSON lines into a pipe.
# The kiosk page (its screen live, its events, the simulator's controls) is
# at the URL it prints; the kiosk runs on after the demo until Ctrl-C.
WEB ?= 127.0.0.1:8080
run: build
	@echo "kiosk page: http://$(WEB)/" >&2
	@$(BIN)/palmd-sim -hw=sim -scenario=demo -web=$(WEB)

# test: vet; every test under the race detector, with the long statistical
# evaluations shortened (-short); then every test in full without it (the
# held-out vision figures, the privacy and Linux-rig runs of the whole daemon).
test: deps
	$(GO) vet ./...
	$(GO) vet $(SIM) ./...
	$(GO) test $(SIM) -race -short -count=1 ./...
	$(GO) test $(SIM) -count=1 ./...
	@$(MAKE) --no-print-directory hil

# hil: the shipped hardware-in-the-loop suite run by palmctl through the
# console against palmd's simulation build, one palmd per scenario, four
# at a time (a scenario mostly waits on the sensor's frame clock); the
# JUnit report goes to hil-report.xml. The suite is the simulator's own
# scenarios whose steps the console drives (HIL_SIM) and the HIL-only ones
# in cmd/palmctl/hil/suite.
HIL_SIM = $(addprefix drivers/sim/scenarios/,age.json app_enrol.json attacks.json cloud_down.json cloud_lost.json delete.json delete_second_factor.json demo.json enrol_both.json entry.json lockout.json loyalty.json pay.json pay_cancel.json pay_cloud_lost.json quality.json)
hil: deps
	@$(GO) build $(SIM) -ldflags '$(LDFLAGS)' -o $(BIN)/palmd-sim ./cmd/palmd >&2
	@$(GO) build -o $(BIN)/palmctl ./cmd/palmctl >&2
	$(BIN)/palmctl hil run --junit hil-report.xml -parallel 4 -palmd $(BIN)/palmd-sim $(HIL_SIM) cmd/palmctl/hil/suite/*.json

# eval: the held-out vision evaluations (both generators, iBeta-sized), the
# matcher on 160 held-out identities, 300 strangers searched at their poses
# among 100,000 enrolled, and 100 enrolments each identified at once on the
# simulation build; minutes of CPU each.
eval: deps
	PALMD_EVAL=1 $(GO) test -count=1 -timeout 60m -run 'TestHeldOutFigures|TestRedTeamFigures|TestHeldOutErrorRates' ./vision/...
	PALMD_EVAL=1 $(GO) test -count=1 -timeout 60m -run 'TestStrangersAtTheirPoses' ./uplink/cloud/index/
	PALMD_EVAL=1 $(GO) test $(SIM) -count=1 -timeout 60m -run 'TestEnrolThenIdentify' -v ./cmd/palmd/

bench: build
	@echo "production palmd: $$(stat -c %s $(BIN)/palmd) bytes; simulation build: $$(stat -c %s $(BIN)/palmd-sim) bytes"
	$(GO) test $(SIM) -run '^$$' -bench . -benchmem -count=6 ./vision/... ./uplink/... ./cmd/palmd/ | tee bench.out
	$(GO) run $(BENCHSTAT) bench.out
	# 1:N search at 10,000, 100,000 and 1,000,000 enrolled, every held-out genuine probe once (several minutes)
	$(GO) test -run '^$$' -bench 'Search' -benchtime=3107x -count=1 ./uplink/cloud/index/

# fleet: the load tool against a three-server NATS cluster with JetStream and
# two cloud instances in this process: 1,000 kiosks, one identification each
# every 5 s, 10,000 people enrolled; then the same run with one server killed
# at half time. Each run ends with one JSON line (the last line is the second's).
fleet: deps
	$(GO) run ./cmd/palmload -kiosks 1000 -interval 5s -duration 60s -enrolled 10000 -nodes 3 -clouds 2
	$(GO) run ./cmd/palmload -kiosks 1000 -interval 5s -duration 60s -enrolled 10000 -nodes 3 -clouds 2 -kill-node
	$(GO) run ./cmd/palmload -kiosks 1000 -bundle 4 -duration 60s -nodes 3 -clouds 2 -kill-node

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet $(SIM) ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) $(SIM) ./...

clean:
	rm -rf $(BIN) bench.out hil-report.xml

# cross: the production palmd for linux/arm64 with cgo and OpenCV, built
# against an arm64 sysroot of Debian packages (unpacked, not installed), in
# bin/linux-arm64/; then the vision tests run on arm64 under qemu-aarch64.
# The first run needs root (or sudo) and downloads about 240 MiB; see
# buildroot/cross/.
.PHONY: cross
cross:
	buildroot/cross/build.sh
