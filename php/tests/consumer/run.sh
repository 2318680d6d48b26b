#!/usr/bin/env bash
# The Composer consumer test: a throwaway project installs aerostack/aerostack through a path
# repository with `composer install`, offline (Packagist disabled: the package needs nothing from
# it), then runs a call against an in-process platform and the vendor/bin/aerostack-worker runner.
#   php/tests/consumer/run.sh [path/to/libaerostack_php.so]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$(cd "$here/../.." && pwd)"
so="${1:-$(cd "$pkg/.." && scripts/php-ext.sh)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/composer.json" <<JSON
{
    "name": "example/consumer",
    "type": "project",
    "repositories": [
        {"type": "path", "url": "$pkg", "options": {"symlink": false, "versions": {"aerostack/aerostack": "0.1.0"}}},
        {"packagist.org": false}
    ],
    "require": {"aerostack/aerostack": "^0.1"}
}
JSON
cp "$here/main.php" "$work/main.php"
cd "$work"
COMPOSER_HOME="$work/.composer" COMPOSER_DISABLE_NETWORK=1 COMPOSER_NO_INTERACTION=1 \
  composer install --no-progress --quiet 2>&1
test -f vendor/aerostack/aerostack/src/Client.php || { echo "consumer: the package was not installed into vendor/" >&2; exit 1; }
out="$(php -d "extension=$so" main.php)"
echo "$out"
[ "$(echo "$out" | tail -1)" = "consumer: ok" ] || { echo "consumer: main.php did not finish" >&2; exit 1; }
set +e
php -d "extension=$so" vendor/bin/aerostack-worker >/dev/null 2>"$work/usage.txt"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "usage: aerostack-worker handlers.php" "$work/usage.txt" || { echo "consumer: vendor/bin/aerostack-worker did not answer its usage (rc=$rc)" >&2; cat "$work/usage.txt" >&2; exit 1; }
echo "consumer: composer install through a path repository, a call, and vendor/bin/aerostack-worker: ok"
