# Image for a user's server: the web, worker and beat services of docker-compose.yml.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk fonts-dejavu-core gettext curl procps \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput -v0
# The Chinese pages' catalogue (locale/zh_Hans), compiled here: the .mo is not committed.
RUN DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py compilemessages -v0
RUN useradd --system --uid 1000 ecrf && mkdir -p /app/media && chown ecrf /app/media
USER ecrf
EXPOSE 8000
