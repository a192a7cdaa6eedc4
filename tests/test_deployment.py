"""docker-compose.yml for a user's server: it cannot run here, so its shape is checked."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_health_checks_and_a_one_off_migrate():
    services = compose()["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        if name == "migrate":
            assert service["restart"] == "no"  # runs once, before the others
            continue
        assert "healthcheck" in service, name
        assert service["healthcheck"]["test"], name


def test_compose_commands_start_gunicorn_celery_worker_and_beat():
    services = compose()["services"]
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    assert "migrate" not in services["web"]["command"]  # the application's role cannot migrate
    assert services["worker"]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")


def test_compose_wires_the_app_to_postgres_and_redis_and_keeps_data_in_volumes():
    data = compose()
    web = data["services"]["web"]
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert web["environment"]["CACHE_URL"] == "redis://redis:6379/1"  # one report cache for every process
    assert web["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pgdata:/var/lib/postgresql/data" in data["services"]["postgres"]["volumes"]
    assert {"pgdata", "redisdata", "media"} <= set(data["volumes"])
    assert "${SECRET_KEY" in web["environment"]["SECRET_KEY"]  # never a committed secret


def test_compose_migrates_as_the_owner_and_runs_the_processes_as_the_application_role():
    services = compose()["services"]
    migrate = services["migrate"]
    steps = migrate["command"].removeprefix('sh -c "').removesuffix('"').split(" && ")
    assert steps == [
        "python manage.py db_roles --bootstrap --apply",  # as the superuser: the two roles
        "python manage.py migrate --noinput",  # as the owner
        "python manage.py db_roles --apply",  # as the owner: the application's grants
    ]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://ecrf_owner:${DB_OWNER_PASSWORD")
    assert migrate["environment"]["APP_DATABASE_URL"] == services["web"]["environment"]["DATABASE_URL"]
    assert migrate["environment"]["DATABASE_ADMIN_URL"].startswith("postgres://ecrf:${POSTGRES_PASSWORD")
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://ecrf_app:${DB_APP_PASSWORD"), name
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert services["postgres"]["environment"]["POSTGRES_USER"] == "ecrf"  # the superuser, for the roles only


def test_dockerfile_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "python:3.11" in dockerfile


def test_cache_url_shares_the_cache_between_processes():
    """With CACHE_URL (as in docker-compose) the report cache is one Redis database for every
    web and worker process; without it each process keeps its own."""
    import os
    import subprocess
    import sys
    import uuid

    from django.conf import settings

    assert settings.REDIS_URL.startswith("redis://"), "make test sets REDIS_URL"
    key = f"cache-test-{uuid.uuid4().hex}"
    script = (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
        "from django.core.cache import cache;"
        "print(cache.get(sys.argv[1])) if sys.argv[2] == 'get' else cache.set(sys.argv[1], 'shared', 30)"
    )

    def run(action: str, cache_url: str) -> str:
        env = {**os.environ, "CACHE_URL": cache_url}
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script, key, action], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    redis_url = settings.REDIS_URL.rsplit("/", 1)[0] + "/15"
    run("set", redis_url)
    assert run("get", redis_url) == "shared"
    assert run("get", "") == "None"  # in-memory: another process does not see it
