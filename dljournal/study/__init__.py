"""Studies over seeds and configurations: sweeps, Optuna tuning, summaries, comparisons and tables."""
