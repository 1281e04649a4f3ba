"""The project's experiments: one module per report, decorated functions only."""
