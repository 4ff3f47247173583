"""Read an admin change form the way a browser would submit it."""

import datetime


def _submitted(value):
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)


def _add_fields(data, form):
    for bound in form:
        value = _submitted(bound.value())
        if value is not None:
            data[bound.html_name] = value


def change_form_data(response):
    """The POST data of the admin change form in ``response``, as rendered (hidden version included)."""
    data = {}
    _add_fields(data, response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        _add_fields(data, formset.management_form)
        for form in formset.forms:
            _add_fields(data, form)
    return data
