"""The web app factory (after the Flask tutorial's tests/test_factory.py)."""

from __future__ import annotations

from pathlib import Path

from flask.cli import ScriptInfo

from web import create_app


def test_config_overrides(tmp_path: Path):
    assert not create_app(tmp_path).testing
    assert create_app(tmp_path, TESTING=True).testing


def test_no_argument_reads_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NEWSEARCH_INDEX", str(tmp_path / "news"))
    app = create_app()
    assert app.config["INDEX_ROOT"] == str(tmp_path / "news")
    assert app.extensions["newsearch"].home.root == tmp_path / "news"


def test_no_argument_and_no_environment_means_dot_index(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("NEWSEARCH_INDEX", raising=False)
    monkeypatch.chdir(tmp_path)
    assert create_app().config["INDEX_ROOT"] == "index"


def test_flask_app_web_finds_the_factory(tmp_path: Path, monkeypatch):
    """What ``flask --app web run`` does: import ``web``, call ``create_app()`` with no arguments."""
    monkeypatch.setenv("NEWSEARCH_INDEX", str(tmp_path / "empty"))
    app = ScriptInfo(app_import_path="web").load_app()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503  # no index built there yet: unhealthy, not a crash
    assert app.test_client().get("/api/search?q=x").get_json()["status"] == 503
