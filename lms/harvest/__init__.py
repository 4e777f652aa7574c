"""Harvesting other repositories over OAI-PMH into records marked as harvested."""
