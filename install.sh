#!/bin/sh
# Install kyma into ~/.local/bin (or $PREFIX/bin) with completions for your shell.
#
#   ./install.sh               build from this checkout with cargo and install
#   KYMA_BINARY=./kyma ./install.sh   install a binary you already have (e.g. a downloaded release)
#   PREFIX=/usr/local ./install.sh    install elsewhere (needs root only if that prefix does)
#   ./install.sh --uninstall   remove what this script installed
#
# Idempotent: running it again replaces the same files.
set -eu

PREFIX=${PREFIX:-$HOME/.local}
BIN_DIR=$PREFIX/bin
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
BASH_COMP=$DATA_HOME/bash-completion/completions/kyma
ZSH_COMP=${ZDOTDIR:-$HOME}/.zfunc/_kyma
FISH_COMP=$CONFIG_HOME/fish/completions/kyma.fish

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is needed: $2"; }

case "${1:-}" in
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --uninstall)
    for f in "$BIN_DIR/kyma" "$BASH_COMP" "$ZSH_COMP" "$FISH_COMP"; do
      if [ -e "$f" ]; then rm -f "$f" && say "removed $f"; fi
    done
    exit 0 ;;
  "") ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
if [ -n "${KYMA_BINARY:-}" ]; then
  [ -x "$KYMA_BINARY" ] || die "KYMA_BINARY=$KYMA_BINARY is not an executable file"
  src=$KYMA_BINARY
elif [ -f "$here/Cargo.toml" ] && grep -q '^name = "kyma"' "$here/Cargo.toml"; then
  need cargo "install the Rust toolchain (rustup) to build kyma from source, or set KYMA_BINARY"
  say "building kyma (release) in $here"
  (cd "$here" && cargo build --release --locked --quiet) || die "cargo build failed"
  # cargo resolves a relative CARGO_TARGET_DIR against the directory it runs in.
  case ${CARGO_TARGET_DIR:-target} in
    /*) src=$CARGO_TARGET_DIR/release/kyma ;;
    *) src=$here/${CARGO_TARGET_DIR:-target}/release/kyma ;;
  esac
else
  die "run this inside a kyma checkout, or set KYMA_BINARY to a kyma binary"
fi

mkdir -p "$BIN_DIR" 2>/dev/null || die "cannot create $BIN_DIR (choose another PREFIX, or run as a user who may write there)"
[ -w "$BIN_DIR" ] || die "$BIN_DIR is not writable (choose another PREFIX, or run as a user who may write there)"
tmp=$BIN_DIR/.kyma.$$
cp "$src" "$tmp" && chmod 0755 "$tmp" && mv -f "$tmp" "$BIN_DIR/kyma"
say "installed $BIN_DIR/kyma ($("$BIN_DIR/kyma" --version))"

shell_name=$(basename -- "${SHELL:-sh}")
case "$shell_name" in
  bash) target=$BASH_COMP ;;
  zsh) target=$ZSH_COMP ;;
  fish) target=$FISH_COMP ;;
  *) target="" ;;
esac
if [ -n "$target" ]; then
  mkdir -p "$(dirname -- "$target")"
  "$BIN_DIR/kyma" completion "$shell_name" > "$target"
  say "installed $shell_name completions: $target"
  if [ "$shell_name" = zsh ]; then
    say "zsh: make sure ~/.zshrc has: fpath=(~/.zfunc \$fpath); autoload -Uz compinit && compinit"
  fi
else
  say "no completions for shell '$shell_name' (kyma completion bash|zsh|fish|powershell prints them)"
fi

case ":$PATH:" in
  *":$BIN_DIR:"*) ;;
  *) say "add $BIN_DIR to your PATH, e.g.: export PATH=\"$BIN_DIR:\$PATH\"" ;;
esac
