"""Which model family a run uses: ``mlp`` for flat features, ``cnn`` for images."""

from __future__ import annotations

FAMILIES: tuple[str, ...] = ("mlp", "cnn")
"""The model families ``build_model`` knows."""


def choose_family(model: str, *, image: bool, input_shape: tuple[int, ...] | None = None) -> str:
    """Resolve a run file's ``model:`` to a family name.

    Args:
        model: ``"auto"``, ``"mlp"`` or ``"cnn"``.
        image: whether the data are images (height, width, channels).
        input_shape: the shape of one example, used only in error messages. Defaults to None.

    Returns:
        ``"cnn"`` or ``"mlp"``; ``"auto"`` picks ``"cnn"`` for images and ``"mlp"`` otherwise.

    Raises:
        ValueError: ``model`` is unknown, or ``cnn`` is asked for on flat features.

    Example:
        >>> choose_family("auto", image=True), choose_family("auto", image=False)
        ('cnn', 'mlp')
    """
    if model == "auto":
        return "cnn" if image else "mlp"
    if model not in FAMILIES:
        raise ValueError(f"model: expected one of auto, {', '.join(FAMILIES)}, got {model!r}")
    if model == "cnn" and not image:
        shape = "" if input_shape is None else f" of shape {tuple(input_shape)}"
        raise ValueError(
            f"model: cnn needs image data (height, width, channels), got flat features{shape}; "
            "use mlp"
        )
    return model
