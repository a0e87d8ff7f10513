"""Fixtures of the browser tests: Debian's Chromium under Playwright, against pytest-django's
live server (a real HTTP server in a thread, on the test database, transactional), with the
demo data and one person per role.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from measures.accounts import user_provision
from pcp.celery import app as celery_app
from tests.browser.harness import (
    AXE_JS,
    CHROMIUM,
    LAUNCH_ARGS,
    PASSWORD,
    Audit,
    Journey,
    missing_prerequisites,
)

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module", autouse=True)
def browser_prerequisites() -> None:
    """Skip without Chromium or axe-core; under CI=true fail instead, CI must run these."""
    missing = missing_prerequisites()
    if not missing:
        return
    reason = "browser tests need " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so they may not be skipped", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium(browser_prerequisites) -> Iterator[Browser]:
    """Debian's Chromium, headless, for the module.

    Playwright's sync API keeps an asyncio loop running on this thread while it is started,
    which makes Django refuse ORM calls from the test (SynchronousOnlyOperation); the live
    server answers from its own thread. The test's own ORM calls (loading the demo, checks,
    the database flush) are synchronous, so Django is told to allow them — only while the
    browser is up, and only for this module.
    """
    expect.set_options(timeout=TIMEOUT_MS)  # publishing makes the PDF before it answers
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
            )
            yield browser
            browser.close()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks (recompute, the report PDF) in process, as `make run` does.

    The live server is a thread of this process, so with a broker configured (CI) its
    tasks would otherwise wait in Redis for a worker that these tests do not start.
    """
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def demo_site(live_server, eager_tasks) -> str:
    """The seed report's data (Q3 2022/23 approved, Q4 open) and a lead, reviewer and admin."""
    call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    for username, role, departments in (
        ("lead", "lead", ["analysis"]),
        ("reviewer", "reviewer", []),
        ("admin", "admin", []),
    ):
        user_provision(
            username=username,
            role=role,
            department_codes=departments,
            password=PASSWORD,
            validate=False,
        )
    return live_server.url


@pytest.fixture
def audit() -> Audit:
    return Audit()


@pytest.fixture
def journey(request) -> Journey:
    return Journey(request.node.name)


@pytest.fixture
def actor(chromium, audit, journey, request) -> Iterator[Callable[[str], Page]]:
    """`actor("lead")` is a page in a browser context (cookies, session) of its own.

    Every page is watched by the audit and carries axe-core. If the test fails outside a
    named step, each actor's page is captured as it was.
    """
    contexts: dict[str, tuple[BrowserContext, Page]] = {}

    def make(name: str) -> Page:
        if name not in contexts:
            context = chromium.new_context(accept_downloads=True, locale="en-GB")
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(path=str(AXE_JS))
            page = context.new_page()
            audit.watch(page)
            contexts[name] = (context, page)
        return contexts[name][1]

    yield make
    report = getattr(request.node, "rep_call", None)
    for name, (context, page) in contexts.items():
        if report is not None and report.failed and not journey.captured:
            journey.capture(f"{name}-at-failure", page)
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell that it failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
