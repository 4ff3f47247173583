"""Bulk imports of conflict-event datasets: ``base`` reads rows, one module per dataset maps its
columns, ``places`` and ``matching`` find what is already recorded, ``importer`` saves in batches."""

from incidents.importing import acled, ucdp

# Command name: (Incident.Dataset, source name, short name, website, row mapper, required columns).
DATASETS = {"ucdp": (*ucdp.DATASET, ucdp.REQUIRED_COLUMNS), "acled": (*acled.DATASET, acled.REQUIRED_COLUMNS)}
