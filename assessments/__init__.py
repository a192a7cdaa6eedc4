"""Visits, lab and vital entry, adverse events, response assessments and the study report."""
