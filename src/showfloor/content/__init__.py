"""The exhibit as content: typed model, loading with positions, lint, bundles."""
