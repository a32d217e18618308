"""Shared setup for running the authors' reference code beside a CPU-only torch.

timm (which DiT's models.py imports) pulls in torchvision for its data transforms only. The
PyPI torchvision wheel is built for CUDA and cannot load beside a CPU torch, so when it does not
import, stand it in with empty modules: no torchvision code runs for the models themselves.
"""
import importlib.abc
import importlib.machinery
import sys
from unittest import mock


def stand_in_torchvision():
    try:
        import torchvision  # noqa: F401
        return
    except Exception:
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]

    class StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name == "torchvision" or name.startswith("torchvision."):
                return importlib.machinery.ModuleSpec(name, self, is_package=True)
            return None

        def create_module(self, spec):
            module = mock.MagicMock(name=spec.name)
            module.__path__ = []
            module.__spec__ = spec
            return module

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, StandIn())
