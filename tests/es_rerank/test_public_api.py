"""The public API is written once, in the package: ``__all__`` is pinned by derivation (as
httpx pins its own), not by a copy of the list. Every public name the package's namespace
holds is in ``__all__``, every name in ``__all__`` is importable, and each class and function
says what it is in its own docstring."""

from __future__ import annotations

import dataclasses
import inspect
import types

import pytest

import es_rerank
import es_rerank.asyncio

PACKAGES = [es_rerank, es_rerank.asyncio]


def public_names(package: types.ModuleType) -> list[str]:
    """What ``package``'s namespace offers: its names without a leading underscore, less the
    submodules importing it has bound there."""
    return sorted(
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    )


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_all_is_the_namespace_sorted(package: types.ModuleType) -> None:
    assert package.__all__ == public_names(package)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_public_name_is_importable(package: types.ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == package.__all__


def _own_doc(obj: object) -> str:
    """``obj``'s own docstring: not one inherited, nor the signature dataclasses write."""
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not doc or (dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}(")):  # type: ignore[union-attr]
        return ""
    return str(doc).strip()


@pytest.mark.parametrize("name", es_rerank.__all__)
def test_every_public_class_and_function_is_documented(name: str) -> None:
    obj = getattr(es_rerank, name)
    assert inspect.isclass(obj) or inspect.isfunction(obj), name
    assert _own_doc(obj), f"es_rerank.{name} has no docstring of its own"


def test_the_derivation_sees_a_name_missing_from_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(es_rerank, "unlisted", lambda: None, raising=False)
    assert "unlisted" in public_names(es_rerank)
    assert es_rerank.__all__ != public_names(es_rerank)


def test_a_dataclass_signature_is_not_documentation() -> None:
    @dataclasses.dataclass
    class Bare:
        x: int

    class Told:
        """Says what it is."""

    class Heir(Told):
        pass

    assert _own_doc(Bare) == "" and _own_doc(Heir) == "" and _own_doc(Told)
