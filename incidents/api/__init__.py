"""The public read-only API (DESIGN.md, "Public API"): published data only, anonymous, JSON.

``represent.py`` turns incidents, reports and places into plain data with the same figures and
sentences the pages show; ``serializers.py`` describes that data for the OpenAPI schema;
``views.py`` filters with the list's FilterSet; ``urls.py`` lists the endpoints.
"""
