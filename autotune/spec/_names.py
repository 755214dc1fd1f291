"""The one rule for a study name, wherever it comes from: a single safe path component.

A study's results go to ``<results-dir>/<study>/``, so its name must never be able to leave
that folder: no separator, no ``.`` or ``..``, no leading dot or dash, a bounded length. The
run file's ``study:``, ``--study``, the Python API's ``study=`` and derived names such as
``<study>-best`` all pass through :func:`check_study_name` before anything is written.
"""

from __future__ import annotations

import re

from autotune.spec._errors import Described, SpecError, show

MAX_STUDY_NAME = 100
"""A study name holds at most this many characters."""

STUDY_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.\-]{{0,{MAX_STUDY_NAME - 1}}}$")
"""Letters, digits, ``.``, ``_`` and ``-``, starting with a letter or a digit."""

STUDY_NAME_RULE = (
    f"a study name of 1-{MAX_STUDY_NAME} letters, digits, '.', '_' or '-' that starts with a "
    "letter or digit (it names the folder <results-dir>/<study>/)"
)
"""What a study name must be, for messages."""


def is_study_name(name: object) -> bool:
    """Whether ``name`` is a valid study name (one path component that stays in its folder).

    Example:
        >>> is_study_name("digits-2"), is_study_name(".."), is_study_name("a/b")
        (True, False, False)
    """
    return isinstance(name, str) and STUDY_NAME.match(name) is not None


def study_name_from(text: str) -> str:
    """A valid study name made from ``text`` (a file's stem): other characters become ``-``.

    Example:
        >>> study_name_from("my run (2)"), study_name_from("..")
        ('my-run--2-', 'autotune')
    """
    name = re.sub(r"[^A-Za-z0-9_.\-]", "-", text)[:MAX_STUDY_NAME].lstrip(".-_")
    return name if is_study_name(name) else "autotune"


def check_study_name(name: object, *, key: str = "study") -> str:
    """``name`` if it is a valid study name, else a SpecError naming ``key`` (its source).

    Raises:
        SpecError: ``name`` could leave its folder, is empty, or is too long.

    Example:
        >>> check_study_name("digits")
        'digits'
        >>> check_study_name("../x", key="--study")
        Traceback (most recent call last):
        ...
        autotune.spec._errors.SpecError: --study: expected a study name of 1-100 ... got '../x'
    """
    if not is_study_name(name):
        raise SpecError(expected=STUDY_NAME_RULE, received=Described(show(name)), key=key)
    return str(name)


def derived_study_name(name: str, suffix: str) -> str:
    """``<name>-<suffix>`` (``digits-best``), shortened so that it stays a valid study name.

    Example:
        >>> derived_study_name("digits", "best")
        'digits-best'
    """
    tail = f"-{suffix}"
    return check_study_name(name[: MAX_STUDY_NAME - len(tail)] + tail)
