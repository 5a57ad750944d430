# efm-harness — see README.md. `make run` starts the stack, `make test` runs every test.
GO        ?= go
BIN       := bin/efm-harness
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test bdd fuzz lint bench clean image compose-up compose-down

all: lint test

## build: the static binary (CGO off, so it also runs in a FROM scratch image)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/efm-harness

## image: the container image FROM scratch (nothing is pulled), built from the static binary; one image
## for every role (up, sim --only dpo, ip, …). IMAGE=name:tag to name it otherwise.
IMAGE   ?= efm-harness:local
image: build
	rm -rf bin/rootfs && mkdir -p bin/rootfs/tmp bin/rootfs/data && chmod 1777 bin/rootfs/tmp
	docker build -q -t $(IMAGE) --label org.opencontainers.image.version=$(VERSION) . >/dev/null
	@docker image prune -f --filter label=org.opencontainers.image.title=efm-harness >/dev/null # the image it replaced
	@echo "built $(IMAGE) ($(VERSION))"

## compose-up / compose-down: one container per service (docker-compose.yml), ports as in the README,
## published on EFM_BIND (127.0.0.1), project efm-harness; compose-up returns when every service answers its health check.
## EFM_FAST=true scales every interval to milliseconds. compose-down removes the containers and volumes.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose) -p efm-harness
compose-up: image
	EFM_IMAGE=$(IMAGE) $(COMPOSE) up -d
	@b=$${EFM_BIND:-127.0.0.1}; ./$(BIN) health --wait 90s http://$$b:9093/manage/health http://$$b:9095/manage/health \
	  http://$$b:9099/__admin/health http://$$b:9100/__admin/health http://$$b:9101/__admin/health \
	  http://$$b:9102/__admin/health http://$$b:9103/__admin/health http://$$b:9104/__admin/health
compose-down:
	$(COMPOSE) down -v --remove-orphans

## run: start every simulated service on the default ports (Ctrl-C stops)
run: build
	./$(BIN) up $(ARGS)

## test: vet, then every unit, fuzz-seed and feature test with the race detector; then, where a Docker
## engine runs, the image (make image) and the container tests (simulator/stack/containers) in a run of
## their own, so that they do not contend with the rest. Without an engine they skip; with CI=true they fail.
CONTAINER_TESTS := ./simulator/stack/containers/...
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v '/simulator/stack/containers')
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory image; \
	  else echo "no Docker engine here: the container tests skip (with CI=true they fail)"; fi
	EFM_IMAGE=$(IMAGE) EFM_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -timeout 15m $(CONTAINER_TESTS)

## bdd: only the Gherkin features, verbose (reports under reports/)
bdd:
	$(GO) test -count=1 -v ./features/...

## fuzz: a short run of every fuzz target (FUZZTIME=30s by default)
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || { \
	      echo "== $$f again: a short run can end in 'context deadline exceeded'; a crasher is in testdata and fails again"; \
	      $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; }; \
	  done; done

## bench: the README's benchmark table (reports/bench.md, HTML reports beside it). About 25 minutes with
## the defaults (60 s per rate, a 10-minute steady run); BENCH_FLAGS='--duration 10s --steady 1m' is quick.
BENCH_FLAGS ?=
bench: build
	@command -v wrk >/dev/null || { echo "installing wrk for the endpoint rows"; (apt-get install -y wrk || sudo apt-get install -y wrk) >/dev/null 2>&1 || echo "wrk could not be installed; its rows say so"; }
	./$(BIN) bench $(BENCH_FLAGS)

## lint: gofmt, go vet and staticcheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin reports keystores
