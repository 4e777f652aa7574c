"""Training: audiences, courses and tracks from repository materials, assignments, progress."""
