"""One stack class per cloud: provider, backend, tags, and the composition of components."""

from __future__ import annotations

import importlib

from stacks.base import GroundworkStack
from synth.providers import load_provider

__all__ = ["GroundworkStack", "bootstrap_stack_class", "stack_class"]


def stack_class(cloud: str) -> type[GroundworkStack]:
    """The stack class of `cloud`, loading only that cloud's provider bindings."""
    load_provider(cloud)
    module = importlib.import_module(f"stacks.{cloud}")
    stack: type[GroundworkStack] = module.STACK
    return stack


def bootstrap_stack_class(cloud: str) -> type[GroundworkStack]:
    """The bootstrap stack class of `cloud` (STATE-2: it creates the state storage)."""
    load_provider(cloud)
    module = importlib.import_module(f"stacks.{cloud}")
    stack: type[GroundworkStack] = module.BOOTSTRAP
    return stack
