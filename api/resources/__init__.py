"""The REST API, one module per resource; api/urls.py registers them."""
