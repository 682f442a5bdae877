"""Configuration: a secret kept in instance/, and production that refuses to run unsafely."""

import pytest

from artisan_market import create_app
from artisan_market.config import ConfigError

LONG_SECRET = "0123456789abcdef" * 4


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("SECRET_KEY", "APP_ENV", "FLASK_DEBUG", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_missing_secret_is_generated_once_and_kept(clean_env, tmp_path):
    """Without SECRET_KEY, is one generated into instance/ (mode 600) and reused next start?"""
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_default_database_is_sqlite_in_instance(clean_env, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/artisan_market.sqlite3"


def test_database_url_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("DATABASE_URL", "postgresql+psycopg://u@db.internal/market")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/market"


@pytest.mark.parametrize("secret", [None, "", "change-me", "short-secret"])
def test_production_refuses_a_missing_or_weak_secret(clean_env, tmp_path, secret):
    clean_env.setenv("APP_ENV", "production")
    if secret is not None:
        clean_env.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()  # never generated in production


def test_production_refuses_debug(clean_env, tmp_path):
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", LONG_SECRET)
    clean_env.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="debug"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_with_a_real_secret_starts_with_secure_cookies(clean_env, tmp_path):
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", LONG_SECRET)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
