import gzip
import hashlib
import shutil
from pathlib import Path

import pytest

from analysis import config, pipeline

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = config.PROJECT_ROOT / "data"


@pytest.fixture
def fixture_path():
    return lambda name: FIXTURES / name


@pytest.fixture
def gzipped(tmp_path):
    """A gzipped copy of a fixture, under a name that does not say .gz."""
    def make(name: str) -> Path:
        target = tmp_path / f"{name}.copy"
        with open(FIXTURES / name, "rb") as src, gzip.open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return target
    return make


@pytest.fixture
def example_copy(tmp_path):
    """A writable copy of one bundled example service under tmp_path/data."""
    def make(service: str) -> Path:
        target = tmp_path / "data" / service
        shutil.copytree(EXAMPLES / service, target)
        return target
    return make


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def search_report(tmp_path_factory):
    """One real papermill + nbconvert run of search-api, shared by the tests that read it."""
    reports = tmp_path_factory.mktemp("reports")
    before = tree_digest(EXAMPLES / "search-api")
    messages = []
    result = pipeline.report("search-api", EXAMPLES, reports, say=messages.append)
    return result, reports, messages, before


@pytest.fixture(scope="session")
def example_reports(search_report, tmp_path_factory):
    """The bundled examples' reports, built once: {service: the reports folder}."""
    _, search_reports, _, _ = search_report
    others = tmp_path_factory.mktemp("examples")
    names = ("listings-api", "payments-api", "orders-api")
    for name in names:
        pipeline.report(name, EXAMPLES, others, say=lambda m: None)
    return {"search-api": search_reports} | dict.fromkeys(names, others)
