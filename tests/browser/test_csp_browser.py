"""The Content Security Policy in a real browser (Debian's Chromium through Playwright, on the live server).

Every page is opened with a listener for `securitypolicyviolation` events installed before any of its scripts
run, and the console is watched for Chromium's "Content Security Policy" messages: the admin (index, a change
list with search, a change form with an autocomplete widget, the two third-party pages whose inline code moved to
static files), the metrics dashboard (Chart.js), the API docs (Swagger UI) and a portal page must work under the
policy without a single violation. The last test shows the watch does see what the policy blocks.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backoffice.services import metrics_rollup
from tests.backoffice.test_metrics import AS_OF, data  # noqa: F401 (the `data` fixture: a small fixed data set)
from tests.factories import PASSWORD, MemberFactory, RewardFactory, TierFactory, UserFactory
from tests.rewards.conftest import fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every document before its own scripts: keeps what the browser refused, for the test to read.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push([event.violatedDirective, event.blockedURI, event.sourceFile, event.lineNumber,
                               event.sample].join(" | "));
});
"""


class CspWatch:
    """Violations (events and console messages) seen on one page, across its navigations."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def check(self, where: str) -> None:
        """No violation on the current document (events) nor on any page so far (console)."""
        events = self.page.evaluate("window.__cspViolations")
        assert events == [], f"CSP violations on {where}: {events}"
        assert self.console == [], f"CSP console messages on {where}: {self.console}"


@pytest.fixture
def csp(page: Page) -> CspWatch:
    return CspWatch(page)


def log_in_staff(page: Page, user, *, next_url: str) -> None:
    """Staff log in to the admin through allauth's form (the admin login redirects there)."""
    page.goto(next_url)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + r"$"))


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


def test_admin_pages_work_under_the_policy(page: Page, csp: CspWatch, superuser):
    MemberFactory(user=UserFactory(email="ada.lovelace@example.test"))
    log_in_staff(page, superuser, next_url="/admin/")
    csp.check("the login page")

    expect(page.locator("#metrics-dashboard-link")).to_be_visible()
    csp.check("the admin index")

    # a change list with search (and the sidebar's JS filter, the actions bar)
    page.goto("/admin/members/member/")
    page.locator("#searchbar").fill("lovelace")
    page.locator("#changelist-search input[type=submit]").click()
    expect(page).to_have_url(re.compile(r"\?q=lovelace$"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#nav-filter").fill("rew")  # the sidebar's model filter (nav_sidebar.js)
    expect(page.locator("#nav-sidebar tr.model-reward")).to_be_visible()
    expect(page.locator("#nav-sidebar tr.model-member")).to_be_hidden()
    page.locator("#result_list tbody input.action-select").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")  # admin's actions.js ran
    csp.check("the member change list")

    # a change form with an autocomplete widget: select2 opens and finds the member over its JSON endpoint
    page.goto("/admin/feedback/feedbackrecord/add/")
    page.locator(".field-member .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    expect(search).to_be_visible()
    search.fill("lovelace")
    expect(page.locator(".select2-results__option").first).to_contain_text("ada.lovelace")
    page.locator(".select2-results__option").first.click()
    expect(page.locator(".field-member .select2-selection__rendered")).to_contain_text("ada.lovelace")
    csp.check("the feedback record form (autocomplete)")

    # third-party admin pages whose inline script / handler moved to static files (templates/admin/...)
    page.goto("/admin/django_celery_beat/periodictask/add/")
    expect(page.locator(".field-task")).to_be_visible()
    expect(page.locator(".field-crontab_translation")).to_be_hidden()
    csp.check("the periodic task form")
    page.goto("/admin/rewards/reward/export/")
    fields = page.locator(".selectable-field-export-row input[type=checkbox]:visible")
    expect(fields.first).to_be_checked()
    page.locator("input.select-toggle").first.uncheck()
    expect(page.locator(".selectable-field-export-row input[type=checkbox]:checked")).to_have_count(0)
    page.locator("input.select-toggle").first.check()
    expect(fields.first).to_be_checked()
    csp.check("the reward export page")


def test_metrics_dashboard_draws_its_charts_under_the_policy(page: Page, csp: CspWatch, superuser, data):  # noqa: F811
    metrics_rollup(as_of=AS_OF)
    log_in_staff(page, superuser, next_url="/admin/dashboard/")
    expect(page.locator(".dash-tiles .dash-tile").first).to_be_visible()
    # Chart.js drew: it sizes each canvas (responsive) and keeps the chart instance
    expect(page.locator("#chart-revenue")).to_have_attribute("height", re.compile(r"^\d+$"))
    assert page.evaluate("Chart.getChart(document.getElementById('chart-tiers')) !== undefined")
    # the dashboard's own stylesheet applies (it was an inline <style> block)
    assert page.evaluate("getComputedStyle(document.querySelector('.dash-tiles')).display") == "grid"
    # the retention heat map keeps its per-cell colours
    cell = page.locator(".dash-heat tbody td[title]").first
    expect(cell).to_be_visible()
    assert re.match(r"rgba?\(33, 102, 172\b", cell.evaluate("td => getComputedStyle(td).backgroundColor"))
    csp.check("the metrics dashboard")


def test_api_docs_render_under_the_policy(page: Page, csp: CspWatch):
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Fidelio API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()  # expand one operation
    expect(page.locator(".opblock.is-open").first).to_be_visible()
    csp.check("the API docs")


def test_portal_rewards_page_under_the_policy(page: Page, csp: CspWatch):
    TierFactory.create_batch(3)  # the member gets Bronze: the home page's tier badge has its colour attribute
    member = MemberFactory()
    fund(member, 500)
    RewardFactory(name="Free coffee", cost_points=300)
    page.goto("/accounts/login/?next=/rewards/")
    page.locator("input[name=login]").fill(member.user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/rewards/$"))
    expect(page.locator("main")).to_contain_text("Free coffee")
    page.goto("/")
    expect(page.locator("[data-testid=balance]")).to_have_text("500")
    expect(page.locator("[data-testid=tier]")).to_have_text("Bronze")
    csp.check("the portal")


def test_the_watch_sees_what_the_policy_blocks(page: Page, csp: CspWatch):
    """The checks above would pass on a page without the policy: prove that an inline script is blocked and seen."""
    page.goto("/")
    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true;";
      document.body.append(script);
      const box = document.createElement("div");
      box.setAttribute("onclick", "window.__handlerRan = true;");
      document.body.append(box);
      box.click();
    }""")
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.__inlineRan === undefined && window.__handlerRan === undefined")
    directives = [line.split(" | ")[0] for line in page.evaluate("window.__cspViolations")]
    assert set(directives) == {"script-src-elem", "script-src-attr"}
    for _ in range(50):  # console messages arrive over Playwright's connection, a moment after the events
        if len(csp.console) >= 2:
            break
        page.wait_for_timeout(50)
    assert len(csp.console) >= 2, csp.console
