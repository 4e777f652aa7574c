"""People, units, groups and roles: one home for people's data."""
