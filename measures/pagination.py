"""API pagination. Its own module: DRF imports it while `rest_framework.generics` loads."""

from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000  # a huge ?limit= is capped, never sent to the database
