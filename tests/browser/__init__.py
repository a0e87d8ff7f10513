"""Browser tests: Playwright driving Debian's Chromium against a live server, with axe-core.

They need /usr/bin/chromium (`apt-get install chromium`) and node_modules/axe-core (`npm ci`).
Without them the tests are skipped, except under CI=true, where they fail instead.
"""
