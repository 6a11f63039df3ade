"""Encryption, key handling, passwords, TOTP and pseudonyms. Imports no Qt and no database."""
