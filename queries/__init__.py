"""Data queries: raised automatically by edit checks (closing themselves when the data are
fixed) or by monitors and data managers, with a conversation and a lifecycle."""
