"""Qt item models over the plain dicts the queries and services return."""
