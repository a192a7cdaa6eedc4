from django.core.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from api import scalars


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        """page in ASCII digits (or "last"); "１" or "1_0" is a 400 naming it, not a page DRF guesses."""
        raw = request.query_params.get(self.page_query_param)
        if raw not in (None, "", *self.last_page_strings):
            scalars.whole_number(raw, field=self.page_query_param, message="Enter a page number.")
        return super().get_page_number(request, paginator)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw not in (None, ""):
            size = scalars.whole_number(raw, field=self.page_size_query_param, message="Enter a page size.")
            if not 1 <= size <= self.max_page_size:
                raise ValidationError({self.page_size_query_param: [f"Page size is from 1 to {self.max_page_size}."]})
        return super().get_page_size(request)
