"""Usage statistics: record page views and file downloads, counted as COUNTER does."""
