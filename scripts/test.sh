#!/usr/bin/env bash
# The one command that runs every test: provisions what is missing (apt packages, the test beds),
# starts two real control planes on loopback, runs unit + cluster tests, and checks the static build.
#
# The version matrix, in one `cargo test` run:
#   Kubernetes 1.37 (scheduler + kwok nodes)  every cluster test      KYMA_TEST_KUBECONFIG
#   Kubernetes 1.20                           the compatibility tests KYMA_TEST_KUBECONFIG_COMPAT
#   Kubernetes 1.37, a third bed               the fault suite         KYMA_TEST_FAULT_BED
#
#   scripts/test.sh                     everything
#   KYMA_TEST_KUBECONFIG=FILE           run the cluster tests against an existing (1.37-like) cluster
#   KYMA_TEST_KUBECONFIG_COMPAT=FILE    ... and the compatibility tests against an existing 1.20 cluster
#   KYMA_TEST_FAULT_BED=DIR             the fault suite's bed (a test-bed.sh state directory: the suite
#                                       stops and starts its components)
#   KYMA_KEEP_BED=1                     leave the beds running afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds are cached outside the checkout, so a fresh clone (CI) compiles only kyma itself, not its
# dependencies again. Set CARGO_TARGET_DIR to choose another place.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kyma-build/target}
# Each step says when it starts (seconds since this script started), so a slow run shows where.
say() { echo "[test $(printf '%4d' "$SECONDS")s] $*"; }

# Style and lints first: they take seconds and need no cluster.
if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
  say "cargo fmt --check; cargo clippy --all-targets -D warnings"
  cargo fmt --check
  cargo clippy --locked --all-targets --quiet -- -D warnings
else
  say "SKIP fmt/clippy: the rustfmt or clippy component is not installed with this toolchain"
fi

# The terminal tests drive kyma in a tmux pane of a fixed size and read the screen back.
if ! command -v tmux >/dev/null 2>&1; then
  say "apt-get install tmux"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends tmux >/dev/null
fi

COMPAT_DIR=/tmp/kyma-test-bed-1.20
stop=()   # state directories of the beds this run started
cleanup() {
  local d
  for d in "${stop[@]}"; do bash scripts/test-bed.sh down --dir "$d" || true; done
}
trap cleanup EXIT

say "test beds"
if [ -z "${KYMA_TEST_KUBECONFIG:-}" ]; then
  bash scripts/test-bed.sh up --version 1.37
  [ "${KYMA_KEEP_BED:-0}" = 1 ] || stop+=("${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}")
  export KYMA_TEST_KUBECONFIG=${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}/kubeconfig
fi
if [ -z "${KYMA_TEST_KUBECONFIG_COMPAT:-}" ]; then
  bash scripts/test-bed.sh up --version 1.20 --dir "$COMPAT_DIR" --port 16444 --etcd-port 12381
  [ "${KYMA_KEEP_BED:-0}" = 1 ] || stop+=("$COMPAT_DIR")
  export KYMA_TEST_KUBECONFIG_COMPAT=$COMPAT_DIR/kubeconfig
fi
# The fault suite stops, freezes and throttles parts of a control plane: it gets a bed of its own, so
# the other tests never see its outages. It is dual-stack: the network tests read its address families.
if [ -z "${KYMA_TEST_FAULT_BED:-}" ]; then
  KYMA_TEST_FAULT_BED=/tmp/kyma-test-bed-faults
  bash scripts/test-bed.sh up --version 1.37 --dual-stack --dir "$KYMA_TEST_FAULT_BED" --port 16445 --etcd-port 12385
  [ "${KYMA_KEEP_BED:-0}" = 1 ] || stop+=("$KYMA_TEST_FAULT_BED")
fi
export KYMA_TEST_FAULT_BED
say "clusters: $KYMA_TEST_KUBECONFIG (main), $KYMA_TEST_KUBECONFIG_COMPAT (1.20 compatibility), $KYMA_TEST_FAULT_BED (faults)"

say "cargo test (unit + cluster)"
export KYMA_TEST_FIGURES=${KYMA_TEST_FIGURES:-$PWD/target/test-figures.txt}
mkdir -p "$(dirname "$KYMA_TEST_FIGURES")"; : >"$KYMA_TEST_FIGURES"
cargo test --locked --all-targets --features cluster-tests -- --test-threads "${KYMA_TEST_THREADS:-8}"
say "figures:"; sed 's/^/  /' "$KYMA_TEST_FIGURES"

# Fuzz the input parsers for a bounded time (20 s per target; KYMA_FUZZ_SECONDS=0 skips).
if [ "${KYMA_FUZZ_SECONDS:-20}" != 0 ]; then
  say "fuzzing"
  bash scripts/fuzz.sh "${KYMA_FUZZ_SECONDS:-20}"
fi

if [ -f scripts/check-static.sh ]; then
  say "static build"
  bash scripts/check-static.sh
fi
say "done; the test beds stop now"
