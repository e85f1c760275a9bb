# The two commands a newcomer runs: `make run` (live capture on the default interface with the embedded
# otel-config.yaml) and `make test`. Both install what is missing first.
.PHONY: setup run demo test bench lint clean

setup:
	@bash scripts/setup.sh

run: setup
	node bin/pastewatch.js run --config otel-config.yaml

demo: setup
	node bin/pastewatch.js scan --format table test/fixtures/pcap/*.pcap*

test: setup
	npm test

bench: setup
	npm run bench

lint: setup
	npm run lint

clean:
	rm -rf dist bench-out
