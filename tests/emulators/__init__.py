"""Tests of the sandbox HubSpot CRM (generator, server, mutate, CLI)."""
