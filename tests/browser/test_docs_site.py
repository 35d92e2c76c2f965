"""The dbt docs site in a real browser: what `make serve-docs` serves, loaded in headless Chromium.

The lakehouse is built and its docs generated on the test's own state (like `make run` then
`make docs`), `make serve-docs` serves them on a free port, and Debian's Chromium, driven by
Playwright, opens the overview, every model, a mart and a Python model with their lineage graphs,
and the exposures. Screenshots go to `<dbt target dir>/screenshots/`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from lakehouse import dbt_runner
from lakehouse.config import project_dir
from tests.conftest import BuiltProject

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # runs as root in containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]
SERVE_TIMEOUT_S = 120
PAGE_TIMEOUT_MS = 30_000


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    return subprocess.run(
        [*sudo, "apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", *args],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


def install_chromium() -> str | None:
    """Install Debian's `chromium` with apt-get; returns why it could not, or None when it worked."""
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        return "not root and no sudo"
    installed = _apt_get("install", "--no-install-recommends", "chromium")
    if installed.returncode != 0:  # package lists may be missing or stale
        _apt_get("update")
        installed = _apt_get("install", "--no-install-recommends", "chromium")
    if installed.returncode != 0 or not DEBIAN_CHROMIUM.exists():
        return f"apt-get install chromium failed: {installed.stderr.strip().splitlines()[-1:]}"
    return None


def chromium_executable() -> str:
    """LAKEHOUSE_CHROMIUM if set (e.g. a CI runner's Chrome), else Debian's Chromium, installed if missing."""
    explicit = os.environ.get("LAKEHOUSE_CHROMIUM")
    if explicit:
        assert Path(explicit).exists(), f"LAKEHOUSE_CHROMIUM={explicit} does not exist"
        return explicit
    if not DEBIAN_CHROMIUM.exists():
        problem = install_chromium()
        if problem:
            pytest.skip(f"Chromium is not installed and cannot be installed here ({problem})")
    return str(DEBIAN_CHROMIUM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DocsSite:
    url: str
    manifest: dict[str, Any]
    catalog: dict[str, Any]
    screenshots: Path

    def models(self) -> dict[str, dict[str, Any]]:
        return {
            uid: node
            for uid, node in self.manifest["nodes"].items()
            if node["resource_type"] == "model" and node["package_name"] == "lakehouse"
        }


def wait_until_served(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"make serve-docs exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/manifest.json", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(
        f"make serve-docs did not answer on {url} within {SERVE_TIMEOUT_S}s:\n{log.read_text()[-2000:]}"
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_executable()  # before the build: a machine without Chromium skips quickly


@pytest.fixture(scope="module")
def docs_target(chromium: str, built_project: BuiltProject) -> Path:
    """The dbt target dir of the suite's one `make run` + `make docs` (a failed run still leaves a site)."""
    return built_project.target


@pytest.fixture(scope="module")
def docs_site(docs_target: Path) -> Iterator[DocsSite]:
    """The site `make serve-docs` serves from `docs_target`, on a free port."""
    screenshots = dbt_runner.target_path() / "screenshots"  # the developer's target dir, not the test's
    screenshots.mkdir(parents=True, exist_ok=True)
    target = docs_target
    port = free_port()
    log = target.parent / "serve-docs.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            ["make", "-s", "serve-docs", f"DOCS_PORT={port}"],
            cwd=project_dir(),
            env={**os.environ, "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target.parent / "logs")},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make and the dbt server stop together
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_served(url, server, log)
        yield DocsSite(
            url=url,
            manifest=json.loads((target / "manifest.json").read_text()),
            catalog=json.loads((target / "catalog.json").read_text()),
            screenshots=screenshots,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors on the docs site: {errors}"


def open_model(page: Page, site: DocsSite, uid: str) -> None:
    page.goto(f"{site.url}/#!/model/{uid}")
    page.locator("tr.column-row").first.wait_for()


def shown_columns(page: Page) -> dict[str, tuple[str, str]]:
    """Column name -> (type, description) as the model page's Columns table shows them."""
    rows = page.locator("tr.column-row").all()
    cells = [[cell.inner_text().strip() for cell in row.locator("td").all()[:3]] for row in rows]
    return {name.lower(): (kind, description) for name, kind, description in cells}


def plain(text: str) -> str:
    """Text as the docs show it: markdown marks dropped, whitespace collapsed."""
    return " ".join(text.replace("`", "").replace("*", "").split())


def shown_lineage(page: Page, uid: str) -> dict[str, Any]:
    """Open the lineage graph and read what cytoscape drew: visible node ids, edges, node sizes."""
    page.locator("a[title='View Lineage Graph']").click()
    page.wait_for_function(
        """uid => {
            const el = document.getElementById('cy');
            const cy = el && el._cyreg && el._cyreg.cy;
            return Boolean(cy && cy.getElementById(uid).visible());
        }""",
        arg=uid,
    )
    page.wait_for_timeout(500)  # the layout animates into place
    graph: dict[str, Any] = page.evaluate(
        """() => {
            const cy = document.getElementById('cy')._cyreg.cy;
            const nodes = cy.nodes(':visible');
            return {
                nodes: nodes.map(n => n.id()),
                edges: cy.edges(':visible').length,
                smallest_node_px: Math.min(...nodes.map(n => n.renderedBoundingBox().w)),
            };
        }"""
    )
    return graph


def pick_model(site: DocsSite, kind: str) -> str:
    """A mart (fct_ first) or a Python model (features first), by path in the project."""
    models = site.models()
    if kind == "python":
        chosen = sorted(
            (not node["original_file_path"].startswith("python_models/features"), uid)
            for uid, node in models.items()
            if node["language"] == "python"
        )
    else:
        chosen = sorted(
            (not node["name"].startswith("fct_"), uid)
            for uid, node in models.items()
            if node["original_file_path"].startswith("models/marts/")
        )
    assert chosen, f"the project has no {kind} model"
    return chosen[0][1]


def test_every_model_is_built_into_the_catalog(docs_site: DocsSite) -> None:
    missing = sorted(
        uid for uid in docs_site.models() if not docs_site.catalog["nodes"].get(uid, {}).get("columns")
    )
    assert missing == [], "models without columns in catalog.json (not built?)"


def test_overview_page_renders_the_project_overview(docs_site: DocsSite, page: Page) -> None:
    page.goto(f"{docs_site.url}/#!/overview")
    overview = docs_site.manifest["docs"].get("doc.lakehouse.__overview__")
    if overview is None:  # dbt's generic overview until the project writes its own
        page.get_by_text("Welcome!").first.wait_for()
    else:
        heading = next(line for line in overview["block_contents"].splitlines() if line.strip())
        page.get_by_text(heading.lstrip("# ").strip()).first.wait_for()
    page.screenshot(path=docs_site.screenshots / "overview.png")


def test_every_model_page_shows_its_description_and_columns(docs_site: DocsSite, page: Page) -> None:
    for uid, node in sorted(docs_site.models().items()):
        open_model(page, docs_site, uid)
        assert node["description"].strip(), f"{uid} has no description"
        page.get_by_text(plain(node["description"])[:60]).first.wait_for()
        shown = shown_columns(page)
        in_catalog = docs_site.catalog["nodes"].get(uid, {}).get("columns", {})  # unbuilt: reported above
        built = {name.lower(): column for name, column in in_catalog.items()}
        assert set(built) <= set(shown), f"{uid}: columns built but not shown"
        for name, column in built.items():
            assert shown[name][0].lower() == column["type"].lower(), f"{uid}.{name}: type not shown"
        for name, column in node["columns"].items():
            if column["description"].strip():
                assert plain(column["description"])[:40] in plain(shown[name.lower()][1]), f"{uid}.{name}"


@pytest.mark.parametrize("kind", ["mart", "python"])
def test_model_page_and_lineage_graph_render(docs_site: DocsSite, page: Page, kind: str) -> None:
    uid = pick_model(docs_site, kind)
    node = docs_site.models()[uid]
    open_model(page, docs_site, uid)
    assert node["language"] == ("python" if kind == "python" else "sql")
    page.locator("text=Language").first.wait_for()
    page.screenshot(path=docs_site.screenshots / f"{kind}_{node['name']}.png")
    graph = shown_lineage(page, uid)
    parents = {parent for parent in node["depends_on"]["nodes"] if not parent.startswith("macro.")}
    assert {uid, *parents} <= set(graph["nodes"])
    assert graph["edges"] >= len(parents)
    assert graph["smallest_node_px"] > 0
    page.screenshot(path=docs_site.screenshots / f"{kind}_{node['name']}_lineage.png")


def test_exposures_render_with_what_they_depend_on(docs_site: DocsSite, page: Page) -> None:
    exposures = docs_site.manifest["exposures"]
    if not exposures:
        pytest.skip("the project defines no exposures yet")
    for uid, exposure in sorted(exposures.items()):
        page.goto(f"{docs_site.url}/#!/exposure/{uid}")
        content = page.locator(".app-details")  # the page itself, not the project tree beside it
        page.get_by_text(exposure.get("label") or exposure["name"]).first.wait_for()
        for model in exposure["depends_on"]["nodes"]:
            content.get_by_text(model.split(".")[-1], exact=True).first.wait_for()
        page.screenshot(path=docs_site.screenshots / f"exposure_{exposure['name']}.png")
