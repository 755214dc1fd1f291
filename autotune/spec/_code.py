"""The code a run file names: import ``custom_objective:`` and ``model: package.module:attr``
and check that it can be called as a run calls it.

``autotune validate`` and the engine load code through the same functions, so a run file
that validates does not fail later on an objective or a builder of the wrong kind. Code is
imported only from the module the run file names (``importlib.import_module``, then attribute
access); no string is ever evaluated. A name in Python's standard library is refused without
importing its module: no objective or model builder lives there. Nothing here imports
TensorFlow or KerasTuner; the user's module may.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autotune.spec._custom import is_import_path
from autotune.spec._errors import Described, SpecError

if TYPE_CHECKING:
    from autotune.spec._schema import RunSpec

OBJECTIVE = "a Python function objective(config, ctx)"
BUILDER = (
    "a Python function build(config) (it may also take input_shape= and num_classes=) "
    "or a KerasTuner HyperModel"
)
BUILD_KEYWORDS = ("input_shape", "num_classes")
"""Keywords a model builder may take; a run passes the data's values for those it names."""


def load_object(path: str) -> Any:
    """The object an import path ``package.module:attribute`` names.

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.

    Example:
        >>> load_object("autotune.space:Int")
        <class 'autotune.space._dimensions.Int'>
    """
    module_name, _, attribute = path.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


def load_objective(spec: RunSpec) -> Callable[..., Any] | None:
    """The function ``custom_objective:`` names, checked to take ``(config, ctx)``.

    Returns None for a run file without one.

    Raises:
        SpecError: the module does not import, or the object is not a Python function (or an
            instance of a class with a Python ``__call__``) that takes two arguments.
    """
    if spec.custom_objective is None:
        return None
    key = ("custom_objective",)
    found = _import(spec, key, spec.custom_objective, expected=OBJECTIVE)
    _check_callable(spec, key, spec.custom_objective, found, OBJECTIVE, (None, None), {})
    objective: Callable[..., Any] = found
    return objective


def load_model(spec: RunSpec) -> Any:
    """What ``model: package.module:attr`` names: a model builder function or a HyperModel.

    A HyperModel class is instantiated without arguments, as a run does. Returns None when
    ``model:`` is a built-in family (auto, mlp, cnn).

    Raises:
        SpecError: the module does not import, or the object is neither a Python function that
            takes ``build(config)`` (with ``input_shape=``/``num_classes=`` when it names them)
            nor a KerasTuner HyperModel with its own ``build``.
    """
    if not is_import_path(spec.model):
        return None
    key = ("model",)
    found = _import(spec, key, spec.model, expected=BUILDER)
    hypermodel = _hypermodel(spec, key, spec.model, found)
    if hypermodel is not None:
        return hypermodel
    _check_callable(spec, key, spec.model, found, BUILDER, (None,), _build_keywords(found))
    return found


def check_code(spec: RunSpec) -> None:
    """Load and check the code a run would run: the objective, else the model.

    Raises:
        SpecError: as ``load_objective`` and ``load_model``.
    """
    if spec.custom_objective is not None:
        load_objective(spec)
    else:
        load_model(spec)


def is_hypermodel(found: Any) -> bool:
    """Whether ``found`` is a KerasTuner HyperModel instance (without importing KerasTuner)."""
    kt = sys.modules.get("keras_tuner")
    return kt is not None and isinstance(found, kt.HyperModel)


def builder_keywords(build: Callable[..., Any]) -> tuple[str, ...]:
    """The keywords of ``BUILD_KEYWORDS`` a model builder's signature names."""
    try:
        names = inspect.signature(build).parameters
    except (TypeError, ValueError):
        return ()
    return tuple(name for name in BUILD_KEYWORDS if name in names)


def _build_keywords(found: Any) -> dict[str, None]:
    return dict.fromkeys(builder_keywords(found)) if callable(found) else {}


def _import(spec: RunSpec, key: tuple[str, ...], path: str, *, expected: str) -> Any:
    module_name, _, attribute = path.partition(":")
    if _in_standard_library(module_name) and module_name not in sys.modules:
        raise _refused(spec, key, expected, path, "a name in Python's standard library")
    try:
        return load_object(path)
    except ImportError as error:
        hint = ""
        if getattr(error, "name", "") in ("keras_tuner", "tensorboard"):
            hint = "pip install 'autotune[keras-tuner]'"
        raise SpecError.at(
            spec,
            key,
            expected="an importable module (is its folder on PYTHONPATH?)",
            received=Described(f"{path}: {_one_line(error)}"),
            hint=hint,
        ) from None
    except AttributeError:
        raise SpecError.at(
            spec,
            key,
            expected=f"an attribute of module {module_name}",
            received=Described(f"{path}: no attribute {attribute!r}"),
        ) from None
    except (Exception, SystemExit) as error:  # the user's module raised while importing
        raise SpecError.at(
            spec,
            key,
            expected="a module that imports without error",
            received=Described(f"{path}: {_one_line(error)}"),
        ) from None


def _hypermodel(spec: RunSpec, key: tuple[str, ...], path: str, found: Any) -> Any:
    """A HyperModel instance of ``found`` (a HyperModel class or instance), else None."""
    kt = sys.modules.get("keras_tuner")  # a HyperModel's module imported KerasTuner already
    if kt is None:
        return None
    if inspect.isclass(found) and issubclass(found, kt.HyperModel):
        try:
            found = found()
        except Exception as error:
            raise SpecError.at(
                spec,
                key,
                expected="a HyperModel class that takes no arguments, or a HyperModel instance",
                received=Described(f"{path}(): {_one_line(error)}"),
            ) from None
    if not isinstance(found, kt.HyperModel):
        return None
    if type(found).build is kt.HyperModel.build:
        what = "a HyperModel without a build method of its own"
        raise _refused(spec, key, "a HyperModel that defines build(hp)", path, what)
    return found


def _check_callable(
    spec: RunSpec,
    key: tuple[str, ...],
    path: str,
    found: Any,
    expected: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Refuse ``found`` unless it is Python code of the user's that takes ``args, kwargs``."""
    problem = _not_python_code(found)
    if problem:
        raise _refused(spec, key, expected, path, problem)
    if inspect.iscoroutinefunction(found) or inspect.isasyncgenfunction(found):
        raise _refused(spec, key, expected, path, "an async function")
    module = getattr(found, "__module__", None) or ""  # an instance: its class's module
    if _in_standard_library(module):
        raise _refused(spec, key, expected, path, f"a function of Python's {module} module")
    try:
        signature = inspect.signature(found)
    except (TypeError, ValueError):
        raise _refused(spec, key, expected, path, "a callable without a signature") from None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        if inspect.isfunction(found) or inspect.ismethod(found):
            what = f"a function {found.__name__}{signature}"
        else:
            what = f"{_a(type(found).__name__)} called as __call__{signature}"
        raise _refused(spec, key, expected, path, f"{what} ({error})") from None


def _not_python_code(found: Any) -> str:
    """Why ``found`` cannot be called as Python code of the user's, or ``""``."""
    if inspect.isclass(found):
        return "a class"
    if inspect.isfunction(found):
        return ""
    if inspect.ismethod(found):
        return "" if inspect.isfunction(found.__func__) else "a built-in method (C code)"
    if inspect.isbuiltin(found):
        return "a built-in function (C code)"
    if inspect.isroutine(found):
        return "a built-in method (C code)"
    if not callable(found):
        return _a(type(found).__name__)
    kind = type(found)
    if inspect.isfunction(kind.__call__):  # an instance of a Python class with __call__
        return ""
    return f"{_a(kind.__module__ + '.' + kind.__qualname__)} (C code, not a Python function)"


def _in_standard_library(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


def _refused(spec: RunSpec, key: tuple[str, ...], expected: str, path: str, what: str) -> SpecError:
    return SpecError.at(spec, key, expected=expected, received=Described(f"{path}, {what}"))


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun
