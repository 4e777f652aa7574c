"""Notifications: in-app messages, reminders found by a scheduled job, e-mail digests."""
