"""Secrets in a device's settings without writing them in the profile.

A setting that is a secret (an MQTT or PJLink ``password``, a webhook header) may be
given three ways, one at a time: ``password: TEXT`` (in the profile, in plain text),
``password_env: NAME`` (the environment variable NAME of the station's process, e.g.
set by its systemd unit's ``Environment=`` or ``EnvironmentFile=``), or
``password_file: PATH`` (an absolute path to a file holding it, e.g. a systemd
credential; one trailing newline is dropped).

``check`` validates the form (one of the three, an absolute path) and warns when the
variable or file is missing *on the machine it runs on* (:func:`missing`); the station
resolves the value when it starts the device (:func:`resolve`), and a missing one is a
:class:`~showfloor.errors.DriverError` with one sentence: the device is not started and
``/healthz`` says why.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from showfloor.errors import DriverError

#: the longest secret file read (a password or a token, not a document)
MAX_FILE = 64 * 1024


def one_of(key: str, value: object, env: str | None, file: str | None) -> None:
    """Raise ``ValueError`` (a settings-model validator's way) unless at most one of
    ``KEY``, ``KEY_env`` and ``KEY_file`` is given and the file path is absolute."""
    given = [k for k, v in ((key, value), (f"{key}_env", env), (f"{key}_file", file))
             if v is not None]
    if len(given) > 1:
        raise ValueError(f"{' and '.join(f'`{k}`' for k in given)} are both given; keep "
                         f"one (`{key}_env` or `{key}_file` keep the secret out of the profile)")
    if env is not None and not env.strip():
        raise ValueError(f"`{key}_env` names an environment variable, not an empty text")
    if file is not None and not Path(file).is_absolute():
        raise ValueError(f"`{key}_file` must be an absolute path, not '{file}'")


def missing(setting: str, env: str | None, file: str | None) -> str | None:
    """Why the secret that ``setting`` (its name, as the profile writes it) points at
    cannot be read here (a sentence), or None (it can, or none is asked for). For
    ``check``'s warning: the station's machine may differ."""
    if env is not None and env not in os.environ:
        return f"the environment variable {env} (`{setting}`) is not set here"
    if file is not None:
        path = Path(file)
        if not path.is_file():
            return f"the file {file} (`{setting}`) does not exist here"
        if not os.access(path, os.R_OK):
            return f"the file {file} (`{setting}`) cannot be read here"
    return None


def resolve(device: str, key: str, value: str | None, env: str | None,
            file: str | None) -> str | None:
    """The secret's value (None: none is asked for); raises :class:`DriverError` with
    one sentence when the variable or the file is missing."""
    if value is not None:
        return value
    if env is not None:
        found = os.environ.get(env)
        if found is None:
            raise DriverError(f"device '{device}' takes its {key} from the environment "
                              f"variable {env}, which is not set for the station")
        return found
    if file is not None:
        try:
            with open(file, "rb") as fh:
                raw = fh.read(MAX_FILE + 1)
        except OSError as err:
            raise DriverError(f"device '{device}' takes its {key} from {file}, which "
                              f"cannot be read ({err.strerror or err})") from err
        if len(raw) > MAX_FILE:
            raise DriverError(f"device '{device}': {file} (its {key}) is longer than "
                              f"{MAX_FILE} bytes; it should hold only the {key}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DriverError(f"device '{device}': {file} (its {key}) is not UTF-8 "
                              "text") from err
        return text.removesuffix("\n").removesuffix("\r")
    return None


def warnings(config: BaseModel) -> list[tuple[tuple[str, ...], str, str]]:
    """For ``check``: each secret of a device's validated ``config`` that cannot be read
    here, as (the setting's key path, a sentence, a fix). Found by name: a ``KEY_env``
    or ``KEY_file`` setting (text), or a mapping of them (``headers_env: {HEADER: VAR}``)."""
    out: list[tuple[tuple[str, ...], str, str]] = []
    for name, value in config:
        kind = "env" if name.endswith("_env") else "file" if name.endswith("_file") else None
        if kind is None:
            continue
        items = ([((name,), name, value)] if isinstance(value, str) else
                 [((name, str(k)), f"{name}.{k}", v) for k, v in value.items()
                  if isinstance(v, str)] if isinstance(value, dict) else [])
        for where, setting, v in items:
            why = missing(setting, v if kind == "env" else None, v if kind == "file" else None)
            if why is not None:
                fix = ("set it in the station's environment (its systemd unit's Environment= "
                       "or EnvironmentFile=): the station does not start the device without it"
                       if kind == "env" else "create the file on the station's machine, "
                       "readable by its user: the station does not start the device without it")
                out.append((where, why, fix))
    return out
