"""Sync: push local runs to the lab's central CogFlow server over the v1 API, once each.

`client` knows the central server's HTTP API, `pieces` cuts a run's trials into request-sized
pieces, `state` keeps each run's sync state in the store, `engine` drives runs through the
steps, `keystore` keeps the install key in the OS keyring for unattended sync.
"""
