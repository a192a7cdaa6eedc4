"""Demo users (one per role) and the demo trial data, loaded through the bulk import.

The data are api/fixtures/demo_bundle.json (format: docs/import.md): three enrolled children
with values in the range the published cohort reports, a screen failure and a screening
still missing data. Idempotent: running it again changes nothing. Used by `make run`;
never run on a real study.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from api.importing import bundle_import
from api.models import ImportKey
from patients.models import Screening
from trial.models import Role, Site, SiteMembership

DEMO_PASSWORD = "rux-demo-2026"
DEMO_USERS = [
    ("clinician", "Li", "Wei", Role.CLINICIAN),
    ("coordinator", "Chen", "Jing", Role.COORDINATOR),
    ("monitor", "Anna", "Berg", Role.MONITOR),
    ("datamanager", "Omar", "Haddad", Role.DATA_MANAGER),
]
DEMO_BUNDLE = Path(settings.BASE_DIR) / "api" / "fixtures" / "demo_bundle.json"


class Command(BaseCommand):
    help = "Create demo users (one per role) and import the demo bundle; safe to run twice."

    def handle(self, *args, **options):
        site = Site.objects.get(code="BCH")
        with transaction.atomic():
            for username, first, last, role in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"first_name": first, "last_name": last}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                user.groups.add(Group.objects.get(name=role.value))
                SiteMembership.objects.get_or_create(user=user, site=site)
            if not User.objects.filter(username="admin").exists():
                User.objects.create_superuser("admin", "admin@localhost", DEMO_PASSWORD)
        if Screening.objects.filter(site=site).exists() and not ImportKey.objects.exists():
            return  # a database seeded before the demo data came as a bundle
        bundle = json.loads(DEMO_BUNDLE.read_text(encoding="utf-8"))
        result = bundle_import(bundle=bundle, user=User.objects.get(username="clinician"))
        if result.created:
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
