"""Bulk imports of conflict-event datasets: ``base`` reads, validates and saves;
one module per dataset maps its columns."""

from incidents.importing import acled, ucdp

# Command name: (Incident.Dataset, source name, short name, website, row mapper).
DATASETS = {"ucdp": ucdp.DATASET, "acled": acled.DATASET}
