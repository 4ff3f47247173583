"""Who may do what: the Analyst and Editor groups, their permissions, and the checks on them."""

RECORD_MODELS = [
    "incident", "tollreport", "attribution", "victim", "source", "location", "actor",
    "placename", "actorname", "possiblematch",  # other names of places and actors; the import review queue
]  # fmt: skip

# Analysts enter and correct records; they cannot publish, unpublish, restore deleted records or
# delete a published incident (incidents.workflow and admin.py ask can_publish()).
ANALYST_PERMISSIONS = [
    f"{action}_{model}" for model in RECORD_MODELS for action in ("add", "change", "delete", "view")
]

# Editors can do everything analysts can, and publish and export.
EDITOR_PERMISSIONS = [*ANALYST_PERMISSIONS, "publish_incident", "export_data"]

GROUPS = {"Analyst": ANALYST_PERMISSIONS, "Editor": EDITOR_PERMISSIONS}

EXPORT_PERMISSION = "incidents.export_data"
PUBLISH_PERMISSION = "incidents.publish_incident"
EDIT_PERMISSION = "incidents.change_incident"


def can_see_drafts(user):
    """Drafts, and the places, sources and actors that only drafts use, on the public pages.

    Only those who edit incidents (Analysts, Editors, superusers) review them there; staff
    without a group see what the public sees. No query for anonymous users.
    """
    return user.has_perm(EDIT_PERMISSION)


def can_publish(user):
    """Publish, unpublish, delete a published incident, restore a deleted record."""
    return user.has_perm(PUBLISH_PERMISSION)


def can_release_names(user):
    """Make a victim's name public (or hide it again): the editors' call, as publishing is."""
    return can_publish(user)


def can_export(user):
    return user.has_perm(EXPORT_PERMISSION)


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
