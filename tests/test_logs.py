"""Structured logs and health (issue 8, item 3): JSON lines with request ids, no queries, no PDF text.

Real apps over a real index; the log files are read back and parsed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from test_web import build_sample_archive
from webapp import create_app, logs

SECRET_QUERY = "zebrafinchquery"


@pytest.fixture(scope="module")
def sample_settings(tmp_path_factory):
    return build_sample_archive(tmp_path_factory.mktemp("logs"))


def read_lines(path: Path) -> list[dict]:
    for handler in logging.getLogger("webapp.access").handlers + logging.getLogger("webapp").handlers:
        handler.flush()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_access_log_has_one_json_line_per_request_with_its_id_and_no_query(sample_settings, tmp_path):
    log_dir = tmp_path / "new" / "logs"
    client = create_app(sample_settings.replace(log_dir=log_dir)).test_client()
    assert log_dir.is_dir()          # created at start
    response = client.get("/search", query_string={"q": SECRET_QUERY})
    client.get("/documents/mou-2006", headers={"X-Request-Id": "proxy-given-id-123"})
    lines = read_lines(log_dir / "access.log")
    assert [(line["method"], line["path"], line["status"]) for line in lines] == \
        [("GET", "/search", 200), ("GET", "/documents/mou-2006", 200)]
    assert lines[0]["request_id"] == response.headers["X-Request-Id"]
    assert lines[1]["request_id"] == "proxy-given-id-123"
    for line in lines:
        assert line["logger"] == "webapp.access" and line["level"] == "INFO"
        assert line["time"].endswith("+00:00") and isinstance(line["ms"], float) and line["remote"] == "127.0.0.1"
    text = (log_dir / "access.log").read_text(encoding="utf-8")
    assert SECRET_QUERY not in text and "q=" not in text


def test_logging_is_set_up_once_per_folder_and_apps_keep_their_own_logs(sample_settings, tmp_path):
    first = create_app(sample_settings.replace(log_dir=tmp_path / "a")).test_client()
    again = create_app(sample_settings.replace(log_dir=tmp_path / "a")).test_client()
    other = create_app(sample_settings.replace(log_dir=tmp_path / "b")).test_client()
    first.get("/help")
    again.get("/browse")
    other.get("/status")
    assert [line["path"] for line in read_lines(tmp_path / "a" / "access.log")] == ["/help", "/browse"]
    assert [line["path"] for line in read_lines(tmp_path / "b" / "access.log")] == ["/status"]


def test_an_unexpected_error_is_logged_with_its_request_id_and_the_page_shows_no_text(
        sample_settings, tmp_path, monkeypatch):
    from indexer.service import IndexSnapshot

    def broken(*args, **kwargs):
        raise RuntimeError(f"failed on the page text 'Quokka statement' for {args[1]!r}")

    # The search the page asks of the index (args: the snapshot, the query, ...).
    monkeypatch.setattr(IndexSnapshot, "search", broken)
    log_dir = tmp_path / "log"
    client = create_app(sample_settings.replace(log_dir=log_dir)).test_client()
    response = client.get("/search", query_string={"q": SECRET_QUERY})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    request_id = response.headers["X-Request-Id"]
    assert request_id in page
    assert "Quokka" not in page and "RuntimeError" not in page and "Traceback" not in page
    # The query box may show the user's own query back, but nothing else of the request.
    (error,) = read_lines(log_dir / "error.log")
    assert error["level"] == "ERROR" and error["request_id"] == request_id
    assert error["error"]["type"] == "RuntimeError"
    assert any("webapp/search.py" in frame for frame in error["error"]["frames"])
    assert SECRET_QUERY not in json.dumps(error) and "[…]" in error["error"]["message"]
    access = read_lines(log_dir / "access.log")
    assert [(a["path"], a["status"], a["request_id"]) for a in access] == [("/search", 500, request_id)]


def test_the_json_api_error_carries_the_request_id_too(sample_settings, tmp_path, monkeypatch):
    from indexer.service import IndexSnapshot

    monkeypatch.setattr(IndexSnapshot, "search", lambda *a, **k: 1 / 0)
    client = create_app(sample_settings.replace(log_dir=tmp_path / "log")).test_client()
    response = client.get("/api/search", query_string={"q": SECRET_QUERY})
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert SECRET_QUERY not in response.get_data(as_text=True)


def test_with_an_empty_log_dir_logs_go_to_standard_error_as_json(sample_settings, capsys):
    from indexer.config import settings_from_mapping

    empty = settings_from_mapping({"log_dir": ""}).log_dir
    client = create_app(sample_settings.replace(log_dir=empty)).test_client()
    capsys.readouterr()
    client.get("/help", headers={"X-Request-Id": "stderr-request-0001"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [(line["path"], line["request_id"]) for line in lines] == [("/help", "stderr-request-0001")]


def test_an_unwritable_log_folder_falls_back_to_standard_error(sample_settings, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    client = create_app(sample_settings.replace(log_dir=blocker / "logs")).test_client()
    assert "cannot create the log folder" in capsys.readouterr().err
    client.get("/help", headers={"X-Request-Id": "fallback-request-01"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [line["request_id"] for line in lines] == ["fallback-request-01"]


def test_failed_admin_logins_are_in_the_error_log_without_the_password(sample_settings, tmp_path):
    from test_upload import PASSWORD_HASH, csrf_of

    log_dir = tmp_path / "log"
    client = create_app(sample_settings.replace(log_dir=log_dir, admin_password_hash=PASSWORD_HASH)).test_client()
    token = csrf_of(client.get("/admin/login"))
    client.post("/admin/login", data={"csrf_token": token, "password": "my-wrong-secret"})
    (line,) = read_lines(log_dir / "error.log")
    assert line["message"] == "failed admin login" and line["remote"] == "127.0.0.1" and line["lockout_s"] == 1.0
    assert "my-wrong-secret" not in (log_dir / "error.log").read_text(encoding="utf-8")


# --- health ---------------------------------------------------------------------------------------


def test_answers_say_which_index_generation_answered(sample_settings):
    client = create_app(sample_settings).test_client()
    generation = Path(sample_settings.index_dir, "current").readlink().name
    for url in ("/healthz", "/api/search?q=policy", "/search?q=policy", "/documents/mou-2006"):
        assert client.get(url).headers["X-Index-Generation"] == generation, url
    with client.get("/static/style.css") as static:
        assert "X-Index-Generation" not in static.headers


def test_waiting_requests_are_logged_at_most_once_a_minute(sample_settings, tmp_path):
    """waitress warns for every request that waits for a thread; error.log keeps one line a minute,
    and the next line says how many it held back."""
    log_dir = tmp_path / "queue"
    create_app(sample_settings.replace(log_dir=log_dir))
    queue = logging.getLogger(logs.QUEUE_LOGGER)
    for limit in queue.filters:
        # The filter is the process's: a server of another test may have passed a line this minute.
        if isinstance(limit, logs.AtMostEvery):
            limit.last, limit.held_back = None, 0
    for depth in range(1, 101):
        queue.warning("Task queue depth is %d", depth)
    lines = [e for e in read_lines(log_dir / "error.log") if e["logger"] == logs.QUEUE_LOGGER]
    assert [e["message"] for e in lines] == ["Task queue depth is 1"]
    # The rate, with a clock of our own.
    now = [1000.0]
    limit = logs.AtMostEvery(60.0, clock=lambda: now[0])
    record = lambda: logging.LogRecord(logs.QUEUE_LOGGER, logging.WARNING, __file__, 0, "wait", None, None)  # noqa: E731
    assert limit.filter(record())
    assert [limit.filter(record()) for _ in range(5)] == [False] * 5
    now[0] += 59.9
    assert not limit.filter(record())
    now[0] += 0.2
    passed = record()
    assert limit.filter(passed) and passed.held_back == 6
    assert limit.filter(r := record()) is False and not hasattr(r, "held_back")
