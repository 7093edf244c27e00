#!/usr/bin/env bash
# The one command that runs every test: provisions what is missing (apt packages, the test bed), starts
# a real control plane on loopback, runs unit + cluster tests, and checks the static build.
#   scripts/test.sh            everything
#   KYMA_TEST_KUBECONFIG=FILE  run the cluster tests against an existing cluster instead of the bed
#   KYMA_KEEP_BED=1            leave the test bed running afterwards
set -euo pipefail
cd "$(dirname "$0")/.."

started_bed=0
if [ -z "${KYMA_TEST_KUBECONFIG:-}" ]; then
  bash scripts/test-bed.sh up
  started_bed=1
  export KYMA_TEST_KUBECONFIG=${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}/kubeconfig
  if [ "${KYMA_KEEP_BED:-0}" != 1 ]; then trap 'bash scripts/test-bed.sh down' EXIT; fi
fi
echo "[test] cluster: $KYMA_TEST_KUBECONFIG"

echo "[test] cargo test (unit + cluster)"
cargo test --locked --all-targets -- --test-threads "${KYMA_TEST_THREADS:-8}"

if [ -f scripts/check-static.sh ]; then
  bash scripts/check-static.sh
fi
if [ "$started_bed" = 1 ]; then echo "[test] done; the test bed stops now"; fi
