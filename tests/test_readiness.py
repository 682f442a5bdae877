"""/readyz: 200 while the database, Redis (when set) and photo storage answer; 503 naming
what is down, quickly, when one does not."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import free_port


def test_ready_with_what_one_machine_has(make_app):
    response = make_app(REDIS_URL="").test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "up",
        "redis": "not used",
        "storage": "up",
    }


def test_redis_down_is_not_ready_and_says_so_within_a_second_or_two(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.get_json()["redis"] == "down"
    assert response.get_json()["database"] == "up"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL (a real Redis) is not set")
def test_ready_with_redis(make_app):
    app = make_app(REDIS_URL=os.environ["REDIS_URL"])
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "up"


def test_storage_down_is_not_ready(app, client, monkeypatch):
    storage = app.extensions["media_storage"]

    def unreachable(key):
        raise ConnectionError("bucket unreachable")

    monkeypatch.setattr(storage, "exists", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["storage"] == "down"
