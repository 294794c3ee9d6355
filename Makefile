# meshguard: `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
# meshguard is built and checked with the toolchain go.mod names (Go 1.26 with
# the standard library's security fixes that govulncheck asks for); the go
# command fetches it from the module proxy once. The envtest tool modules
# (hack/envtest) name none and keep the local Go.
export GOTOOLCHAIN ?= auto
BIN      := $(CURDIR)/bin
OPA      := $(BIN)/opa
CONFTEST := $(BIN)/conftest
CONFTEST_VERSION := v0.71.1
CORPUS   ?= $(abspath $(CURDIR)/../shared/corpus)
export MESHGUARD_CORPUS := $(CORPUS)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: build
build: snapshot ## build bin/meshguard and bin/webhook
	$(GO) build -o $(BIN)/meshguard ./cmd/meshguard
	$(GO) build -o $(BIN)/webhook ./cmd/webhook

# The built-in bundle compiled and planned ahead of time, embedded in the
# binaries so that they start without compiling it (pkg/policy/snapshot.go).
# Built, not kept in git; remade when a policy, the .manifest or the engine
# changes. A binary built without it, or with a stale one, compiles its
# bundle instead.
SNAPSHOT := policies/bundle.snapshot
$(SNAPSHOT): $(shell find policies -name '*.rego' -not -name '*_test.rego') policies/.manifest $(wildcard pkg/policy/*.go) go.sum
	$(GO) run ./hack/snapshot $@

.PHONY: snapshot
snapshot: $(SNAPSHOT) ## write the bundle snapshot the binaries embed (make build does)

# opa runs from the version pinned in go.mod, never a downloaded binary.
$(OPA): go.mod go.sum
	$(GO) build -o $@ github.com/open-policy-agent/opa

$(CONFTEST): ## build the pinned conftest into bin/ (the conftest compatibility test and make bench use it)
	GOBIN=$(BIN) $(GO) install github.com/open-policy-agent/conftest@$(CONFTEST_VERSION)

.PHONY: tools
tools: $(OPA) ## build the pinned opa binary into bin/

.PHONY: test
test: lint test-policies test-unit test-e2e ## run every test tier (what CI runs)

.PHONY: chromium
chromium: ## install Debian's chromium for the HTML report test (once; needs apt)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

.PHONY: test-unit
test-unit: export MESHGUARD_REQUIRE_CHROMIUM=1
test-unit: $(CONFTEST) chromium snapshot ## Go unit tests, fixture tests and the corpus test (skipped without ../shared/corpus)
	$(GO) test -count=1 ./...

.PHONY: test-e2e
test-e2e: envtest-bins snapshot ## the webhook against a real kube-apiserver and etcd (envtest; builds them once into bin/k8s)
	$(GO) test -tags e2e -count=1 ./test/e2e/...

.PHONY: test-policies
test-policies: $(OPA) ## Rego: opa fmt, opa check --strict, opa test with coverage
	@out=$$($(OPA) fmt --list policies); if [[ -n "$$out" ]]; then echo "opa fmt would change: $$out (run: make fmt)"; exit 1; fi
	$(OPA) check --strict policies
	$(OPA) test policies
	$(OPA) test --coverage policies | $(GO) run ./hack/opacover -min 90

.PHONY: lint
lint: $(OPA) ## go vet, gofmt and opa fmt must be clean, then govulncheck must find nothing (make vulncheck)
	$(GO) vet -tags e2e ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); if [[ -n "$$out" ]]; then echo "gofmt would change: $$out"; exit 1; fi
	@out=$$($(OPA) fmt --list policies); if [[ -n "$$out" ]]; then echo "opa fmt would change: $$out"; exit 1; fi
	@$(MAKE) --no-print-directory vulncheck

# govulncheck, pinned, against a vulnerability database built locally from
# the OSV reports of the golang.org/x/vulndb module (served by the Go module
# proxy like any module; the public database need not be reachable). The database is
# as new as VULNDB_VERSION: bump it (go list -m golang.org/x/vulndb@latest)
# to learn of newer reports.
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION      := v0.0.0-20261105234957-e22db6528018
GOVULNCHECK         := $(BIN)/govulncheck@$(GOVULNCHECK_VERSION)
INDEXDB             := $(BIN)/indexdb@$(VULNDB_VERSION)
VULNDB              := $(BIN)/vulndb/$(VULNDB_VERSION)

$(GOVULNCHECK):
	GOBIN=$(BIN)/.install $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	mv $(BIN)/.install/govulncheck $@

$(INDEXDB):
	GOBIN=$(BIN)/.install $(GO) install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION)
	mv $(BIN)/.install/indexdb $@

$(VULNDB)/index/db.json: | $(INDEXDB)
	@src=$$(cd "$$(mktemp -d)" && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  if [[ -z "$$src" || ! -d "$$src/data/osv" ]]; then echo "vulncheck: no OSV reports in golang.org/x/vulndb@$(VULNDB_VERSION)"; exit 1; fi; \
	  echo "vulncheck: building the database from $$(ls "$$src/data/osv" | wc -l) OSV reports of golang.org/x/vulndb@$(VULNDB_VERSION)"; \
	  rm -rf $(VULNDB) && $(INDEXDB) -vulns "$$src/data/osv" -out $(VULNDB)

.PHONY: vulncheck
vulncheck: $(GOVULNCHECK) $(VULNDB)/index/db.json ## govulncheck ./... (pinned) against a database built from the golang.org/x/vulndb module (docs/reliability.md)
	$(GOVULNCHECK) -db file://$(VULNDB) ./...

.PHONY: fmt
fmt: $(OPA) ## format Go and Rego
	gofmt -w $$(git ls-files '*.go')
	$(OPA) fmt -w policies

.PHONY: bench
bench: build $(CONFTEST) ## engine benchmarks and meshguard check vs conftest on the corpus (docs/performance.md)
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/policy/ ./pkg/check/
	./hack/bench-check.sh

.PHONY: bench-webhook
bench-webhook: build tools ## the webhook under load (vegeta, 32 concurrent, 60 s) beside opa run --server; DURATION=10s for a quick run
	$(GO) run ./hack/bench-webhook

SOAK_RATE ?= 1000
.PHONY: soak
soak: build ## 10 minutes at SOAK_RATE (1,000) reviews/s on loopback: fails on any error, RSS +10% over minute two, or goroutine growth (docs/reliability.md)
	$(GO) run ./hack/bench-webhook -soak -rate $(SOAK_RATE)

.PHONY: bench-audit
bench-audit: build envtest-bins ## meshguard audit of 50,000 objects on a local API server: objects/s and peak RSS
	$(GO) run ./hack/bench-audit

FUZZTIME ?= 30s
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 30s); crashers land in testdata/fuzz and become regression tests
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) ./pkg/admission
	$(GO) test -run '^$$' -fuzz '^FuzzMutate$$' -fuzztime $(FUZZTIME) ./pkg/admission
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./pkg/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzParseExemption$$' -fuzztime $(FUZZTIME) ./pkg/policy
	$(GO) test -run '^$$' -fuzz '^FuzzFastParse$$' -fuzztime $(FUZZTIME) ./pkg/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzValueFromJSON$$' -fuzztime $(FUZZTIME) ./pkg/policy

.PHONY: demo
demo: build envtest-bins ## check examples/ offline, then apply them to a local API server through the webhook
	@echo "--- 1. offline: meshguard check examples/  (exit 1 means: something would be denied)"
	-$(BIN)/meshguard check examples/
	@echo
	@echo "--- 2. at admission: the same examples through a local kube-apiserver and the meshguard webhook"
	$(GO) run ./hack/demo examples

.PHONY: envtest-bins
envtest-bins: ## build etcd and kube-apiserver from the Go module proxy into bin/k8s (for the e2e tier)
	bash hack/envtest/build.sh
