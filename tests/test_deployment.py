"""docker-compose.yml for a user's server: it cannot run here, so its shape is checked."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name
        assert service["healthcheck"]["test"], name


def test_compose_commands_start_gunicorn_celery_worker_and_beat():
    services = compose()["services"]
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    assert "migrate" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")


def test_compose_wires_the_app_to_postgres_and_redis_and_keeps_data_in_volumes():
    data = compose()
    web = data["services"]["web"]
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pgdata:/var/lib/postgresql/data" in data["services"]["postgres"]["volumes"]
    assert {"pgdata", "redisdata", "media"} <= set(data["volumes"])
    assert "${SECRET_KEY" in web["environment"]["SECRET_KEY"]  # never a committed secret


def test_dockerfile_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "python:3.11" in dockerfile
