"""The protocol as configuration: trial, sites, dosing bands, reference ranges, visit schedule, roles."""
