#!/usr/bin/env bash
# The PHP SDK's tests: PHPUnit (Debian's phpunit, PHPUnit 9) over php/tests against the
# in-process platform, with the extension loaded by php itself (-d extension=..., not phpunit's
# own -d); then the composer path-repository consumer test when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
so="$(scripts/php-ext.sh)"
php -d "extension=$so" "$(command -v phpunit)" -c php/phpunit.xml.dist
if [ -x php/tests/consumer/run.sh ]; then
  php/tests/consumer/run.sh "$so"
fi
