"""Groups that span machines, formed through the study's storage (``autotune worker --join``).

Each joining process takes a *seat* in the study's lobby: a system attr ``autotune:lobby:<id>``
with its address (``host:port``), devices, when it came and a heartbeat. The earliest waiting
seat's process proposes a group of the ``processes_per_trial`` earliest live seats
(``autotune:group_of:<id>``, state ``proposed``); each proposed process answers with the
proposal it accepts (the earliest one listing it) in its seat; when every member has accepted,
the proposer marks the group ``formed`` and everyone starts TensorFlow with its ``TF_CONFIG``.
A proposal some member does not accept within ``ACCEPT_SECONDS`` is ``dissolved`` and its
seats wait again. Only ``formed`` groups take seats out of the lobby, so two proposals that
raced for a seat settle without anyone joining two groups.

The storage is the only coordinator (a database server every machine reaches); the processes
meet nowhere else until TensorFlow's collectives connect them.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import optuna

from autotune.train._group import GroupRole

SEAT = "autotune:lobby:"
PROPOSAL = "autotune:group_of:"
ACCEPT_SECONDS = 15.0
"""How long a proposer waits for every member to accept before it dissolves the proposal."""
BEAT_SECONDS = 2.0
POLL_SECONDS = 0.3


def group_host() -> str:
    """The address other machines reach this one at: ``AUTOTUNE_GROUP_HOST``, else the
    address this host's name resolves to."""
    chosen = os.environ.get("AUTOTUNE_GROUP_HOST")
    if chosen:
        return chosen
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def free_port() -> int:
    """A port free on every interface a moment ago."""
    with socket.socket() as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Formed:
    """A group this process belongs to: its place and each process's devices."""

    role: GroupRole
    devices: tuple[str, ...]


class Lobby:
    """One process's way into a group through a study's storage (see the module).

    Example (one process alone never forms a group of two):
        >>> from optuna.storages import InMemoryStorage
        >>> from optuna.study import StudyDirection
        >>> storage = InMemoryStorage()
        >>> lobby = Lobby(storage, storage.create_new_study([StudyDirection.MAXIMIZE]), size=2)
        >>> lobby.enter("127.0.0.1:5000", devices="cpu")
        >>> lobby.form(timeout=0.5) is None
        True
    """

    def __init__(
        self,
        storage: optuna.storages.BaseStorage,
        study_id: int,
        *,
        size: int,
        stale_after: float = 30.0,
    ) -> None:
        self.storage = storage
        self.study_id = study_id
        self.size = size
        self.stale_after = stale_after
        self.uid = uuid.uuid4().hex[:12]
        self.seat: dict[str, Any] = {}
        self._beat = 0.0

    def enter(self, address: str, *, devices: str) -> None:
        """Take a seat: this process waits to be grouped at ``address``."""
        now = time.time()
        self.seat = {"address": address, "devices": devices, "since": now, "beat": now}
        self._write()

    def form(
        self, *, timeout: float | None = None, alive: Callable[[], bool] = lambda: True
    ) -> Formed | None:
        """Wait until this process is in a formed group; None when ``timeout`` seconds pass or
        ``alive()`` turns False first (the seat is then given up)."""
        until = None if timeout is None else time.monotonic() + timeout
        while alive() and (until is None or time.monotonic() < until):
            attrs = self.storage.get_study_system_attrs(self.study_id)
            formed = self._formed(attrs)
            if formed is not None:
                return formed
            self._answer(attrs)
            self._propose(attrs, alive)
            self._keep_alive()
            time.sleep(POLL_SECONDS)
        self.leave()
        return None

    def leave(self) -> None:
        """Give the seat up (a process that stops waiting)."""
        if self.seat:
            self.seat = {**self.seat, "left": True}
            self._write()

    # -- the protocol --------------------------------------------------------------------

    def _formed(self, attrs: Mapping[str, Any]) -> Formed | None:
        for proposal in _proposals(attrs):
            members = proposal["members"]
            if proposal["state"] == "formed" and self.uid in members:
                index = members.index(self.uid)
                role = GroupRole(index, tuple(proposal["addresses"]), key=proposal["key"])
                return Formed(role, tuple(proposal["devices"]))
        return None

    def _answer(self, attrs: Mapping[str, Any]) -> None:
        """Accept the earliest live proposal that lists this seat (or none)."""
        recent = time.time() - 2 * ACCEPT_SECONDS  # an older proposal's proposer has gone
        listing = [
            p
            for p in _proposals(attrs)
            if p["state"] == "proposed" and self.uid in p["members"] and p["since"] > recent
        ]
        accepted = min(listing, key=lambda p: (p["since"], p["key"]))["key"] if listing else None
        if self.seat.get("accepted") != accepted:
            self.seat = {**self.seat, "accepted": accepted}
            self._write()

    def _propose(self, attrs: Mapping[str, Any], alive: Callable[[], bool]) -> None:
        """The earliest waiting seat proposes a group of the earliest waiting seats."""
        waiting = self._waiting(attrs)
        if len(waiting) < self.size or waiting[0][0] != self.uid:
            return
        chosen = waiting[: self.size]
        key = self.uid + "-" + uuid.uuid4().hex[:6]
        proposal: dict[str, Any] = {
            "key": key,
            "since": time.time(),
            "state": "proposed",
            "members": [uid for uid, _ in chosen],
            "addresses": [seat["address"] for _, seat in chosen],
            "devices": [seat["devices"] for _, seat in chosen],
        }
        self.storage.set_study_system_attr(self.study_id, PROPOSAL + key, proposal)
        until = time.monotonic() + ACCEPT_SECONDS
        while alive() and time.monotonic() < until:
            self._answer(self.storage.get_study_system_attrs(self.study_id))
            seats = _seats(self.storage.get_study_system_attrs(self.study_id))
            if all(seats.get(uid, {}).get("accepted") == key for uid in proposal["members"]):
                proposal["state"] = "formed"
                self.storage.set_study_system_attr(self.study_id, PROPOSAL + key, proposal)
                return
            self._keep_alive()
            time.sleep(POLL_SECONDS)
        proposal["state"] = "dissolved"
        self.storage.set_study_system_attr(self.study_id, PROPOSAL + key, proposal)

    def _waiting(self, attrs: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """Live seats in no formed group, earliest first."""
        taken = {uid for p in _proposals(attrs) if p["state"] == "formed" for uid in p["members"]}
        now = time.time()
        live = [
            (uid, seat)
            for uid, seat in _seats(attrs).items()
            if uid not in taken
            and not seat.get("left")
            and now - float(seat.get("beat", 0)) < self.stale_after
        ]
        return sorted(live, key=lambda item: (float(item[1]["since"]), item[0]))

    def _keep_alive(self) -> None:
        if time.monotonic() - self._beat >= BEAT_SECONDS:
            self.seat = {**self.seat, "beat": time.time()}
            self._write()

    def _write(self) -> None:
        self._beat = time.monotonic()
        self.storage.set_study_system_attr(self.study_id, SEAT + self.uid, self.seat)


def _seats(attrs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key.removeprefix(SEAT): value
        for key, value in attrs.items()
        if key.startswith(SEAT) and isinstance(value, dict)
    }


def _proposals(attrs: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        value
        for key, value in attrs.items()
        if key.startswith(PROPOSAL) and isinstance(value, dict) and "members" in value
    ]
