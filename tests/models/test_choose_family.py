from __future__ import annotations

import pytest

from autotune.models import FAMILIES, choose_family


def test_families() -> None:
    assert FAMILIES == ("mlp", "cnn")


@pytest.mark.parametrize(
    ("model", "image", "expected"),
    [
        ("auto", True, "cnn"),
        ("auto", False, "mlp"),
        ("mlp", True, "mlp"),
        ("mlp", False, "mlp"),
        ("cnn", True, "cnn"),
    ],
)
def test_choose_family(model: str, image: bool, expected: str) -> None:
    assert choose_family(model, image=image) == expected


def test_cnn_on_flat_features_says_what_to_do() -> None:
    with pytest.raises(ValueError) as info:
        choose_family("cnn", image=False, input_shape=(64,))
    assert str(info.value) == (
        "model: cnn needs image data (height, width, channels), got flat features of shape "
        "(64,); use mlp"
    )


def test_cnn_on_flat_features_without_a_shape() -> None:
    with pytest.raises(ValueError, match=r"^model: cnn needs image data .*flat features; use mlp"):
        choose_family("cnn", image=False)


def test_unknown_model() -> None:
    with pytest.raises(ValueError, match="model: expected one of auto, mlp, cnn, got 'rnn'"):
        choose_family("rnn", image=True)
