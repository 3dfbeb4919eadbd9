"""The midwife page stays under 60 KB gzipped: every file it loads, compressed one by one."""

import gzip
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
MIDWIFE_PAGE = [
    "index.html",
    "css/app.css",
    "js/app.js",
    "js/i18n.js",
    "js/api.js",
    "js/live.js",
    "js/geo.js",
    "js/midwife.js",
    "js/filters.js",
    "js/contacts.js",
    "js/refusal.js",
    "js/outbox.js",
    "js/bell.js",
    "manifest.webmanifest",
    "img/icon.svg",
    "sw.js",
]


def test_midwife_page_under_60_kb_gzipped() -> None:
    total = sum(len(gzip.compress((FRONTEND / f).read_bytes(), 9)) for f in MIDWIFE_PAGE)
    assert total < 60 * 1024, f"midwife page is {total} bytes gzipped"


def test_service_worker_caches_files_that_exist() -> None:
    sw = (FRONTEND / "sw.js").read_text()
    shell = sw.split("const SHELL = [", 1)[1].split("];", 1)[0]
    for name in (p.strip().strip("'") for p in shell.replace("\n", "").split(",")):
        if name and name != "/":
            assert (FRONTEND / name.lstrip("/")).is_file(), name
