"""Name -> factory registries, so a Snakemake wildcard or a config value is a registry key. The methods, models
and datasets are those of neft/catalogue.py: an entry's module is imported when its name is first looked up, and
registers what it implements."""

import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, catalogue: dict | None = None):
        self.kind = kind
        self.catalogue = catalogue  # name -> entry with the `module` that implements it; None: registered directly
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            if self.catalogue is not None and name not in self.catalogue:
                raise ValueError(f"{self.kind} {name!r} has no entry in neft/catalogue.py")
            self._items[name] = item
            return item

        return add

    def get(self, name: str) -> T:
        if name not in self._items and name in (self.catalogue or {}):
            importlib.import_module(self.catalogue[name].module)
        if name not in self._items:
            raise ConfigError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}")
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items if self.catalogue is None else self.catalogue)
