"""Data review: source data verification by monitors, investigators' electronic signatures,
and data managers' locks (freeze and lock) on a record, a visit, a patient or the study."""
