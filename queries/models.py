"""The models of data queries are in crf.models (edit checks raise them as part of the core write
path); this app keeps their lifecycle, pages and the manual queries."""
