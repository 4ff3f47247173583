"""Structured log lines: one JSON object per line (python-json-logger), with the request id."""

import logging
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

request_id_var = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record, and the method, path and status of Django's request logs."""

    def filter(self, record):
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "id", None) or request_id_var.get()
        if request is not None and hasattr(request, "path"):
            record.method = request.method
            record.path = request.path
        if getattr(record, "status_code", None):
            record.status = record.status_code
        return True


class JsonFormatter(BaseJsonFormatter):
    """``{"time", "level", "logger", "request_id", "message", …}``; the request object and the
    server's own copies of the status are left out (the filter above gives them as plain fields)."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            "{asctime}{levelname}{name}{request_id}{message}",
            style="{",
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "request", "status_code", "server_time", "color_message"],
            json_ensure_ascii=False,
            **kwargs,
        )
