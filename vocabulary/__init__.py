"""Words that mean the same to every part of Journey Pulse, wherever the text came from.

A leaf package: it imports nothing of the project, so both ``qualtrics`` (reading a survey definition) and
``scoring`` (mapping exported answers) use the same rules without depending on each other.
"""

from vocabulary.not_an_answer import is_not_an_answer, is_unsure, normalise_label

__all__ = ["is_not_an_answer", "is_unsure", "normalise_label"]
