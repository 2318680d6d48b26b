#!/usr/bin/env bash
# Installs what `make` needs and a fresh machine may lack. Idempotent and quiet when all is there.
set -euo pipefail

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc)
command -v curl >/dev/null || need_apt+=(curl)
# The Node SDK (node/): node and npm (Node 20 or newer; the machines ship it, apt is the fallback).
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
# The PHP SDK (bindings/php, php/): the extension's build script needs php-config and libclang;
# its tests use Debian's phpunit, the bench Guzzle, the consumer test composer.
if ! command -v php-config >/dev/null || ! command -v phpunit >/dev/null || ! command -v composer >/dev/null \
  || ! command -v clang >/dev/null || [ ! -f /usr/share/php/GuzzleHttp/autoload.php ] \
  || ! php -r 'exit(extension_loaded("curl") ? 0 : 1);' 2>/dev/null; then
  need_apt+=(php-cli php-dev php-curl libclang-dev clang composer phpunit php-guzzlehttp-guzzle)
fi
# php-fpm: the PHP suite serves requests through it (FpmTest).
ls /usr/sbin/php-fpm* >/dev/null 2>&1 || need_apt+=(php-fpm)
# The dashboard's browser test (tests/dashboard): Debian's headless chromium and its driver.
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || need_apt+=(chromium chromium-driver)

if ((${#need_apt[@]})); then
  echo "ensure-deps: installing ${need_apt[*]} from Debian" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    echo "ensure-deps: cargo is in ~/.cargo/bin but not on PATH; add it: export PATH=\$HOME/.cargo/bin:\$PATH" >&2
  else
    echo "ensure-deps: Rust (cargo) is required: install it with rustup, or apt-get install cargo" >&2
  fi
  exit 1
fi
