"""The service's controllers."""
