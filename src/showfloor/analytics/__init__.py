"""Events, learning records, metrics and reports."""
