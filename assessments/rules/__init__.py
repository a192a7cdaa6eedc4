"""Pure clinical rules of the assessments: visit schedule and windows."""
