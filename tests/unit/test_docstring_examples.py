"""Every public class's docstring example runs and prints what it says (doctest)."""
import doctest
import importlib
import pkgutil

import pytest

import distml

MODULES = sorted(m.name for m in pkgutil.walk_packages(distml.__path__, "distml."))


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
