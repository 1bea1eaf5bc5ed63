"""The evidence collector (collect.py, standard library only) and a metadata emulator."""
