# den: rootless containers in one static binary.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/denproject/den/cmd/den/cli.Version=$(VERSION)
export CGO_ENABLED = 0

.PHONY: build test unit fuzz fuzz-short demo bench lint clean man completion install

# Where make install puts den: ~/.local for a user, /usr/local for root.
PREFIX ?= $(if $(filter 0,$(shell id -u)),/usr/local,$(HOME)/.local)

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/den ./cmd/den

# Every test. As root, the e2e package creates the user "dentest" with
# subuid/subgid ranges and runs itself as that user.
test: lint
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz-short

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

# Each fuzz target for a short fixed time (FUZZTIME=60s for a longer run).
# "make test" runs fuzz-short: 50,000 inputs per target, a few seconds
# each (under a minute in all when the fuzzing builds are not cached). A crash lands in the
# package's testdata/fuzz/, where plain "go test" runs it as a regular
# test from then on.
# Go's minimizer otherwise spends up to a minute shrinking each new input,
# during which nothing is fuzzed.
FUZZTIME ?= 10s
FUZZFLAGS = -run='^$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=200x
fuzz:
	$(GO) test $(FUZZFLAGS) -fuzz='^FuzzFilterTar$$' ./overlay
	$(GO) test $(FUZZFLAGS) -fuzz='^FuzzFilterEntries$$' ./overlay
	$(GO) test $(FUZZFLAGS) -fuzz='^FuzzParseRef$$' ./pull
	$(GO) test $(FUZZFLAGS) -fuzz='^FuzzParseProfile$$' ./run/security
	$(GO) test $(FUZZFLAGS) -fuzz='^FuzzParsers$$' ./run/spec

# A count, not a duration: go1.26's coordinator can report a duration's
# end as "context deadline exceeded", a failure with no input behind it
# (golang/go#75804, fixed in go1.27); it failed CI once.
fuzz-short:
	$(MAKE) fuzz FUZZTIME=50000x

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Offline: an image from the host's busybox-static, loaded and run.
demo: build
	@mkdir -p build
	$(GO) run ./internal/testimage/mkimage -o build/busybox.tar
	XDG_DATA_HOME=$(CURDIR)/build/demo-data ./bin/den load -i build/busybox.tar
	XDG_DATA_HOME=$(CURDIR)/build/demo-data ./bin/den images
	XDG_DATA_HOME=$(CURDIR)/build/demo-data ./bin/den run --rm busybox sh -c 'hostname; id; cat /etc/os-release 2>/dev/null || uname -a'

# Man pages generated from the commands (den(1), den-run(1), ...).
man:
	@rm -rf build/man
	$(GO) run -tags manpages -ldflags '$(LDFLAGS)' ./cmd/den man-pages build/man

completion: build
	@mkdir -p build/completion
	./bin/den completion bash > build/completion/den.bash
	./bin/den completion zsh > build/completion/_den
	./bin/den completion fish > build/completion/den.fish

install: build man completion
	install -D -m 755 bin/den $(DESTDIR)$(PREFIX)/bin/den
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 build/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -D -m 644 build/completion/den.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/den
	install -D -m 644 build/completion/_den $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_den
	install -D -m 644 build/completion/den.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/den.fish
	@echo "installed den in $(DESTDIR)$(PREFIX)/bin; man den; completions for bash, zsh, fish"

bench: build
	bench/run.sh

clean:
	-[ -d build/demo-data ] && ./bin/den --root build/demo-data/den unshare rm -rf build/demo-data
	rm -rf bin build
