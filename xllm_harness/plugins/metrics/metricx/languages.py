"""The languages of mT5, the encoder under MetricX-24.

Source: Xue et al. 2021, "mT5: A Massively Multilingual Pre-trained Text-to-Text Transformer" (the 101
mC4 languages), as the ISO codes of the ``google/mt5-large`` model card, with the card's ``iw`` written
``he`` and Indonesian (``id``, named in the card's list but missing from its codes) added.
"""

from __future__ import annotations

_MT5_CODES = """
    af am ar az be bg bn ca ceb co cs cy da de el en eo es et eu fa fi fil fr fy ga gd gl gu ha haw he
    hi hmn ht hu hy id ig is it ja jv ka kk km kn ko ku ky la lb lo lt lv mg mi mk ml mn mr ms mt my ne
    nl no ny pa pl ps pt ro ru sd si sk sl sm sn so sq sr st su sv sw ta te tg th tr uk ur uz vi xh yi
    yo zh zu
"""
MT5_LANGUAGES = frozenset(_MT5_CODES.split())
MT5_SOURCE = "mT5's 101 mC4 languages, Xue et al. 2021"
