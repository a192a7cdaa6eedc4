"""The audit trail: who changed what, when and why (21 CFR Part 11, ICH E6(R3)).

Record histories are kept by django-simple-history on every clinical model; this app adds
what those do not cover (logins, failed logins, role changes), makes every history table
append-only in PostgreSQL, and reads the trail back per record, per patient and study-wide.
"""
