"""Render one requested document in a fresh process, as a Celery worker process would, and print
the seconds the render took (the benchmark's own process holds the whole cohort in memory,
which a worker does not). Usage: python -m bench.render_one DOCUMENT_ID MEDIA_ROOT"""

import json
import os
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    from exports.documents import document_render

    settings.MEDIA_ROOT = sys.argv[2]
    started = time.perf_counter()
    document = document_render(document_id=int(sys.argv[1]))
    elapsed = time.perf_counter() - started
    sys.stdout.write(json.dumps({"seconds": elapsed, "file": document.file_path}) + "\n")


if __name__ == "__main__":
    main()
