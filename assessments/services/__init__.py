"""Writes of the assessments app, one module per part of the CRF."""
