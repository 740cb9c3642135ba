from pathlib import Path

from guanxi.core.api_doc import render

ROOT = Path(__file__).resolve().parents[4]


def test_api_doc_matches_the_openapi_document():
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == render(), (
        "docs/api.md is stale: run python -m guanxi.core.api_doc > docs/api.md")
