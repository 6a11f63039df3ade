"""Sync: push local runs to the lab's central CogFlow server over the v1 API, once each.

- `client`: the central server's HTTP API (requests), errors turned into one reason each,
- `pieces`: a run's trials cut into request-sized pieces, the same cut on every retry,
- `material`: what is sent for a run, decrypted from the store,
- `vocabulary`: trial rows with the names the central server's tools key on (on what is sent),
- `state`: each run's SyncState row and the audit rows, durable step by step,
- `group_commit`: concurrent state writes share one transaction and one fsync,
- `retry`: exponential backoff with jitter, Retry-After, cancellation,
- `engine`: drives the runs through publish, pinned start, checkpoints, submit on a thread pool,
- `progress`: the progress and outcome types a CLI or GUI shows,
- `keystore`: the install key in the OS keyring, for unattended sync.
"""
