"""Bundle imports (docs/import.md)."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from api.bundle_zip import MAX_TOTAL_BYTES, BundleTooLarge, is_zip, megabytes
from api.csv_bundle import CsvBundleReader
from api.models import ImportJob
from api.parsing import BUNDLE_FIELD, BodyTooLarge, BundleMultiPartParser, StrictJSONParser, ZipBodyParser, json_loads
from api.permissions import RolePermission
from api.serializers import (
    ImportJobSerializer,
)
from crf.outbox import task_enqueue


class ImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """POST a bundle (docs/import.md); a Celery task validates everything, then writes all or nothing."""

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.none()  # typed path parameter in the schema; get_queryset scopes
    permission_classes = [RolePermission]
    perm_model = "patients.screening"
    parser_classes = [StrictJSONParser, BundleMultiPartParser, ZipBodyParser]
    body_field = BUNDLE_FIELD  # a body over the size limit is refused naming it (api.errors)

    def get_queryset(self):
        return ImportJob.objects.filter(created_by=self.request.user)

    @extend_schema(
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": inline_serializer(
                name="ImportUpload",
                fields={
                    "bundle": serializers.FileField(
                        help_text="A ZIP of CSV files (one per form) or a JSON bundle file; see docs/import.md."
                    )
                },
            ),
            "application/zip": OpenApiTypes.BINARY,
        },
        responses={202: ImportJobSerializer},
        description=(
            "Body: the JSON bundle of docs/import.md, or the CSV bundle (a ZIP of CSV files) as the body "
            "(Content-Type: application/zip) or as the multipart file field `bundle`. Poll GET /imports/{id}/ "
            "for progress and errors; a CSV bundle's errors name the file, line and column. A bundle over a "
            "size limit is refused at once with 413 naming the limit (docs/import.md)."
        ),
    )
    def create(self, request):
        if not request.user.has_perm("patients.enroll_patient"):
            return Response({"detail": "You do not have permission to perform this action."}, status=403)
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type == "application/zip":
            data = request.data
            if not hasattr(data, "read") or not is_zip(data):
                raise ValidationError({"non_field_errors": ["The body is not a ZIP file of CSV files."]})
            return self.csv_job(request, data)
        if content_type == "multipart/form-data":
            upload = request.FILES.get("bundle")
            if upload is None:
                raise ValidationError(
                    {"bundle": ["Send the bundle as the file field 'bundle': a ZIP of CSV files or a JSON file."]}
                )
            if is_zip(upload):
                return self.csv_job(request, upload)
            if upload.size > MAX_TOTAL_BYTES:
                raise BodyTooLarge(
                    BUNDLE_FIELD, f"A JSON bundle is at most {megabytes(MAX_TOTAL_BYTES)}; split the bundle."
                )
            bundle = json_loads(upload.read(), field="bundle", not_json="Neither a ZIP of CSV files nor a JSON bundle.")
            return self.json_job(request, bundle)
        return self.json_job(request, request.data)

    def json_job(self, request, bundle):
        # Its text was read by api.parsing: no NUL, no lone surrogate, no NaN, nested within bounds.
        if not isinstance(bundle, dict):
            raise ValidationError({"non_field_errors": ["Send the bundle as a JSON object."]})
        return self.queued(ImportJob.objects.create(bundle=bundle, created_by=request.user))

    def csv_job(self, request, data):
        """Read the CSV files now: the job keeps the JSON bundle, each record's file and line, and the
        errors of the CSV files (the task still checks the rest, to list every error at once)."""
        try:
            bundle, locations, errors = CsvBundleReader().convert(data)
        except BundleTooLarge as exc:  # refused before a row is read, and nothing is stored
            raise BodyTooLarge(BUNDLE_FIELD, str(exc)) from None
        if bundle is None:  # the ZIP, screenings.csv or enrollments.csv cannot be read: nothing to check
            job = ImportJob.objects.create(
                bundle={},
                created_by=request.user,
                status=ImportJob.Status.FAILED,
                errors=errors,
                finished_at=timezone.now(),
            )
            return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        return self.queued(
            ImportJob.objects.create(bundle=bundle, locations=locations, errors=errors, created_by=request.user)
        )

    def queued(self, job: ImportJob) -> Response:
        from api.tasks import import_key

        task_enqueue("api.import_bundle", job.pk, key=import_key(job.pk))
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    def retrieve(self, request, *args, **kwargs):
        from api.tasks import import_job_check

        job = import_job_check(self.get_object())  # a job lost with its worker is queued again
        return Response(ImportJobSerializer(job).data)
