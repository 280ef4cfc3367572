"""Facts about media files: how long they play.

Lengths come from the ``mutagen`` library (Ogg Opus/Vorbis, MP3, MP4/M4A,
FLAC, WAV …) or, for captions, from the last cue of a WebVTT file (via
``webvtt-py``). Both the station and ``simulate`` use these, so a replay
sees the same lengths as the station did.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def _duration_cached(path: str, mtime: float) -> float | None:
    try:
        import mutagen

        f = mutagen.File(path)
    except Exception:  # noqa: BLE001 - any unreadable media simply has no known length
        return None
    if f is None or getattr(f, "info", None) is None:
        return None
    length = getattr(f.info, "length", None)
    return float(length) if length else None


def media_duration(root: Path, path: str | None) -> float | None:
    """Length in seconds of an audio or video file (via mutagen), or of a .vtt file's last cue."""
    if not path:
        return None
    p = root / path
    try:
        mtime = p.stat().st_mtime
    except OSError:
        return None
    if p.suffix.lower() == ".vtt":
        return _vtt_end(str(p), mtime)
    return _duration_cached(str(p), mtime)


@cache
def _vtt_end(path: str, mtime: float) -> float | None:
    try:
        import webvtt

        captions = webvtt.read(path)
    except Exception:  # noqa: BLE001 - a broken caption file is reported by lint
        return None
    ends = [c.end_in_seconds for c in captions.captions]
    return max(ends) if ends else None


