"""Lab hardware: LSL event markers on the LSL clock and serial (TTL) triggers.

The Interpreter page reports its events (run start/end, stimulus onsets and offsets, responses,
block boundaries, DRT events, pauses, abort) on its own `performance.now()` clock; the host maps
them to the LSL clock (`pylsl.local_clock()`) with an offset measured by round trips, pushes each
as a JSON string with that explicit timestamp, and sends trigger codes on a serial port.

Modules, one job each (no Qt here; the Qt WebChannel bridge lives in gui/marker_bridge.py, the
HTTP route for `serve --lsl` in api/blueprints/markers.py):
- clock_sync.py      page clock -> LSL clock: offset and its uncertainty from round trips
- lsl.py             the marker outlet (pylsl; liblsl comes in its wheels)
- serial_trigger.py  codes on a serial port (pyserial), pulse width, scheduled sends
- machine.py         this computer's settings (hardware.json in the data folder)
- study.py           what a study's config asks for (`lsl`, `triggers`), and a run's study
- protocol.py        the messages page and host exchange (validated)
- host.py            MarkerHost: the per-run state behind both transports
- registry.py        the one MarkerHost of a process's data folder
"""
