"""Facts about media files: how long they play, how large a picture is.

Lengths come from the ``mutagen`` library (Ogg Opus/Vorbis, MP3, MP4/M4A,
FLAC, WAV …) or, for captions, from the last cue of a WebVTT file (via
``webvtt-py``). Both the station and ``simulate`` use these, so a replay
sees the same lengths as the station did.

Picture sizes come from the file's header, read with Pillow
(:func:`image_size`); nothing is decoded, so even a 20000×20000 picture has
a size that ``check`` can report against the display's budget.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from pathlib import Path
from typing import IO


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




class ImageTooLarge(ValueError):
    """A picture so large that Pillow will not even say its width and height.

    ``pixels`` is its pixel count, which Pillow does say.
    """

    def __init__(self, pixels: int) -> None:
        super().__init__(f"{pixels:,} pixels")
        self.pixels = pixels


def image_size(source: str | Path | IO[bytes]) -> tuple[int, int]:
    """Width and height of a picture, from its header (nothing is decoded).

    Pillow guards *decoding* against "decompression bombs": it warns above
    about 89 megapixels and refuses above about 179. Only the header is read
    here, so the warning is silenced, and past the refusal the header is read
    again by the format's own Pillow plugin (PNG, JPEG, GIF), which does not
    apply the guard. Raises :class:`ImageTooLarge` when even that cannot say
    the size, and ``OSError`` (``PIL.UnidentifiedImageError`` among them)
    when the file is not a picture.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                return im.size
    except Image.DecompressionBombError as err:
        size = _header_size(source)
        if size is not None:
            return size
        m = re.search(r"\((\d+) pixels\)", str(err))
        raise ImageTooLarge(int(m.group(1)) if m else 2 * (Image.MAX_IMAGE_PIXELS or 0)
                            ) from err


def _header_size(source: str | Path | IO[bytes]) -> tuple[int, int] | None:
    from PIL import GifImagePlugin, JpegImagePlugin, PngImagePlugin

    for plugin in (PngImagePlugin.PngImageFile, JpegImagePlugin.JpegImageFile,
                   GifImagePlugin.GifImageFile):
        if not isinstance(source, (str, Path)):
            source.seek(0)
        try:
            with plugin(source) as im:
                return im.size
        except (SyntaxError, OSError, ValueError, IndexError):
            continue
    return None
