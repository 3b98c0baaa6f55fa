"""The `mcm` command line: one module per verb, all logic elsewhere."""
