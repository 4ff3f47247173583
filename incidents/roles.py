"""Who may do what: the Analyst and Editor groups and their permissions."""

RECORD_MODELS = ["incident", "tollreport", "source", "location", "actor"]

# Analysts enter and correct records; admin.py stops them publishing, unpublishing or
# deleting a published incident.
ANALYST_PERMISSIONS = [
    f"{action}_{model}" for model in RECORD_MODELS for action in ("add", "change", "delete", "view")
]

# Editors can do everything analysts can, and publish and export.
EDITOR_PERMISSIONS = [*ANALYST_PERMISSIONS, "publish_incident", "export_data"]

GROUPS = {"Analyst": ANALYST_PERMISSIONS, "Editor": EDITOR_PERMISSIONS}


def sync_groups(group_model, permission_model):
    """Create the groups if missing and give them exactly the permissions above."""
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.set(
            permission_model.objects.filter(content_type__app_label="incidents", codename__in=codenames)
        )


def sync_groups_after_migrate(sender, apps=None, **kwargs):
    """post_migrate: keeps the groups in step with this file whenever `migrate` (or a test flush) runs."""
    if apps is None:  # `flush` sends the signal without the migration state
        from django.apps import apps
    sync_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))
