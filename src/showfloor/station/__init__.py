"""The process on a station: runs the engine, serves the renderer, keeps the event log."""
