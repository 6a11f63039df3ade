"""Dialogs: first-run wizard, sign-in/TOTP, kiosk start and exit."""
