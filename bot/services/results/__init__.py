"""The results dashboard: figures computed by set-based SQL from the stored facts."""
