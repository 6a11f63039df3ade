"""The Qt desktop shell: a thin layer over services/, the embedded server and the web apps.

Modules here that import no Qt (runtime, logs, prefs, researcher, queries) hold the logic, so
it can be tested without a display; the Qt modules only show it.
"""
