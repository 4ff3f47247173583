"""Who may do what. Used by the data migration that creates the groups."""

RECORD_MODELS = ["incident", "tollreport", "source", "location", "actor"]

# Analysts enter and correct records; admin.py stops them publishing, unpublishing or
# deleting a published incident.
ANALYST_PERMISSIONS = [
    f"{action}_{model}" for model in RECORD_MODELS for action in ("add", "change", "delete", "view")
]

# Editors can do everything analysts can, and publish and export.
EDITOR_PERMISSIONS = [*ANALYST_PERMISSIONS, "publish_incident", "export_data"]

GROUPS = {"Analyst": ANALYST_PERMISSIONS, "Editor": EDITOR_PERMISSIONS}
