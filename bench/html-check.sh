#!/usr/bin/env bash
# The HTML estate report in headless Chromium (issue 13): sweeps a generated estate of real
# git repositories, renders `keytrace report --html`, has Chromium load it (script run, DOM
# dumped, matrix cells compared with the expected ones) and saves a screenshot to look at.
#
#   bench/html-check.sh [SCREENSHOT.png]      (default: target/html-check.png)
#
# Installs Debian's chromium when it is missing and we are root. `cargo test` runs the same
# check (tests/sweep_report.rs) and skips it, saying so, where chromium is absent; .ci/run
# does not install the browser (a few minutes of apt), so run this script for the check.
set -euo pipefail
cd "$(dirname "$0")/.."
shot="$(realpath -m "${1:-target/html-check.png}")"
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
        echo "html-check: chromium is not installed (apt-get install chromium)" >&2
        exit 2
    fi
fi
chromium --version
rm -f "$shot"
KEYTRACE_HTML_SHOT="$shot" cargo test --test integration -- --exact --nocapture \
    sweep_report::report_page_renders_in_headless_chromium
test -s "$shot"
echo "html-check: rendered; screenshot at $shot"
