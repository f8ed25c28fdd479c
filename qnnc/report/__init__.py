"""Reading results: the build summary, the estimate table, plots, the sweep report. Never runs a stage."""
