"""The same ISO dates for English without a region (see ``en_GB``)."""

from casualty_tracker.formats.en_GB.formats import *  # noqa: F403
