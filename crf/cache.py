"""A shared cache that tolerates its server being down: a read misses, a write is dropped.

The cache only saves work (the report's figures); Redis unreachable must not turn a page into
a 500. Each operation that fails on a Redis error is logged once per call and answered as a
miss.
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_MISS = {
    "get": lambda args, kwargs: kwargs.get("default", args[1] if len(args) > 1 else None),
    "get_many": lambda args, kwargs: {},
    "has_key": lambda args, kwargs: False,
    "add": lambda args, kwargs: False,
    "set": lambda args, kwargs: None,
    "set_many": lambda args, kwargs: list(args[0]) if args else [],
    "touch": lambda args, kwargs: False,
    "delete": lambda args, kwargs: False,
    "delete_many": lambda args, kwargs: None,
    "clear": lambda args, kwargs: False,
}


def _tolerant(name: str, on_error):
    method = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (RedisError, OSError) as exc:
            log.warning("Cache %s failed (%s); answered as a miss.", name, exc)
            return on_error(args, kwargs)

    call.__name__ = name
    return call


class ResilientRedisCache(RedisCache):
    pass


for _name, _miss in _MISS.items():
    setattr(ResilientRedisCache, _name, _tolerant(_name, _miss))
