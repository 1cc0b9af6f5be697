"""Gamification hears the points engine through signals sent after commit (loyalty.signals). Inside a test's
transaction nothing commits, so these helpers run the on-commit callbacks an action queued, as its commit would."""

from django.test import TestCase

from loyalty.services import purchase_return as _purchase_return
from tests.loyalty.conftest import T0, _program, tiers  # noqa: F401 - the engine tests' program and tiers
from tests.loyalty.conftest import buy as _buy


def committed(fn, /, *args, **kwargs):
    """Call fn, then the on-commit callbacks it queued (the after-commit events), and return its result."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def buy(*args, **kwargs):
    return committed(_buy, *args, **kwargs)


def purchase_return(**kwargs):
    return committed(_purchase_return, **kwargs)
