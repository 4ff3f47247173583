"""What a pure function gave, kept in each process by everything it read (``Remembered``).

For words and HTML that depend only on their key (and on the translations, templates and
number formats, which do not change while a server runs) and that every page of every data
version writes again: a range sentence, a row of an incidents table. Keyed by content, a kept
answer is never out of date: changed data is another key. Cleared when a test changes a setting
(a number format, the languages).
"""

from django.core.signals import setting_changed


class Remembered:
    """At most ``size`` answers by key; when full, forgotten all at once (cheaper than keeping
    an order, and the answers still asked for come back within a page or two)."""

    def __init__(self, size):
        self.size = size
        self.kept = {}
        setting_changed.connect(self.clear, weak=False)

    def clear(self, **kwargs):
        self.kept = {}  # replaced whole: another thread may be reading the old one

    def get(self, key, compute):
        answer = self.find(key)
        if answer is None:
            answer = compute()
            self.keep(key, answer)
        return answer

    def find(self, key):
        """The answer kept for ``key``, or None."""
        return self.kept.get(key)

    def keep(self, key, answer):
        kept = self.kept
        if len(kept) >= self.size:
            kept = self.kept = {}
        kept[key] = answer
