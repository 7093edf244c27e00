#!/usr/bin/env bash
# Fuzz the parsers a user's input goes through (module.yaml, YAML values/manifests, --set) for a bounded
# time each. A crash fails the run; its input is in $CACHE/artifacts/<target>: add it to
# fuzz/corpus/<target>/ and as a regression test, then fix the crash.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 20; KYMA_FUZZ_SECONDS too)
#
# Needs cargo-fuzz (installed from crates.io into ~/.cargo/bin if missing). Uses the nightly toolchain
# with AddressSanitizer when rustup has one; otherwise the stable compiler with RUSTC_BOOTSTRAP=1 and no
# sanitizer (coverage-guided all the same). Builds and new corpus entries live outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-${KYMA_FUZZ_SECONDS:-20}}
CACHE=${KYMA_FUZZ_CACHE:-$HOME/.cache/kyma-fuzz}
mkdir -p "$CACHE"

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  run=(cargo +nightly fuzz run)
else
  export RUSTC_BOOTSTRAP=1
  run=(cargo fuzz run --sanitizer none)
fi
for target in module_yaml values_yaml set_flag; do
  mkdir -p "$CACHE/corpus/$target" "$CACHE/artifacts/$target"
  echo "[fuzz] $target for ${SECONDS_PER_TARGET}s (${run[*]})"
  "${run[@]}" --fuzz-dir fuzz --target-dir "$CACHE/target" "$target" \
    "$CACHE/corpus/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -artifact_prefix="$CACHE/artifacts/$target/" -print_final_stats=1 \
    2>"$CACHE/$target.log" || { tail -n 40 "$CACHE/$target.log" >&2; echo "[fuzz] $target crashed: input in $CACHE/artifacts/$target" >&2; exit 1; }
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$CACHE/$target.log" | tail -n 2 | sed "s/^/[fuzz] $target: /"
done
