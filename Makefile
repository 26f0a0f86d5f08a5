# minik8s — a small container orchestrator. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/minik8s
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/minik8s/minik8s/apiserver.Version=$(VERSION) -X github.com/minik8s/minik8s/cli.Version=$(VERSION)
KUBECTL_DIR := build/tools/kubectl
CLUSTER_DIR ?= $(HOME)/.minik8s/cluster

IMAGES_DIR := build/images

DEBIAN_PACKAGES := containerd runc containernetworking-plugins iptables iproute2 busybox-static util-linux

.PHONY: help deps build images test test-unit test-e2e bench lint up down clean tools

help: ## show this help
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

deps: ## install the Debian packages a node needs (as root), if missing
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing $$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

build: ## build bin/minik8s (and bin/minik8s-cni, the node's CNI plugin on its own)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/minik8s
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o bin/minik8s-cni ./cmd/minik8s-cni

images: build ## build the system and test images (OCI archives) into build/images
	$(GO) run ./cmd/mkimage --out $(IMAGES_DIR) --minik8s $(BIN)

test: test-unit test-e2e ## run the unit, integration and end-to-end tests

test-unit: ## unit tests and integration tests (real embedded etcd and API server)
	$(GO) test -count=1 ./...

test-e2e: build images tools ## end-to-end tests against a real local cluster (as root)
	@mkdir -p build
	KUBECTL=$(CURDIR)/$(KUBECTL_DIR)/usr/bin/kubectl MINIK8S_BIN=$(CURDIR)/$(BIN) MINIK8S_IMAGES=$(CURDIR)/$(IMAGES_DIR) \
		$(GO) test -count=1 -tags e2e -timeout 20m -v ./e2e/ 2>&1 | tee build/e2e.log; exit $${PIPESTATUS[0]}

bench: build images ## benchmarks, reported as ratios against the layer beneath (Pod starts and Services need root and wrk)
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	MINIK8S_BIN=$(CURDIR)/$(BIN) MINIK8S_IMAGES=$(CURDIR)/$(IMAGES_DIR) \
		$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 -timeout 20m ./bench/

lint: ## go vet and gofmt
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tools: $(KUBECTL_DIR)/usr/bin/kubectl ## fetch Debian's kubectl (kubernetes-client) into build/tools for the e2e tests

$(KUBECTL_DIR)/usr/bin/kubectl:
	mkdir -p $(KUBECTL_DIR)
	cd $(KUBECTL_DIR) && apt-get download kubernetes-client 2>/dev/null && dpkg -x kubernetes-client_*.deb . && rm -f kubernetes-client_*.deb
	@test -x $@ || { echo "could not fetch kubernetes-client: run 'apt-get update' first"; exit 1; }

up: deps build images ## start a local 3-node cluster (as root), push the images, install ~/.minik8s/config
	$(BIN) cluster up --nodes 3 --dir $(CLUSTER_DIR) --images $(IMAGES_DIR)

down: ## stop the local cluster and remove its containers and networks
	@if [ -x $(BIN) ]; then $(BIN) cluster down --dir $(CLUSTER_DIR); fi

clean: down ## stop the local cluster and remove build outputs
	rm -rf bin build
