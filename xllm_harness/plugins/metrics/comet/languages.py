"""The languages of the XLM-R encoders under COMET, CometKiwi and XCOMET (XLM-R, InfoXLM and XLM-R XL
were all pre-trained on the same CC-100 languages).

Source: Conneau et al. 2020, "Unsupervised Cross-lingual Representation Learning at Scale", Table 6
(100 languages), as the 93 ISO codes of the ``FacebookAI/xlm-roberta-large`` model card: the paper's
100 also count romanized Bengali, Hindi, Tamil, Telugu and Urdu, Traditional Chinese and Burmese (Zawgyi)
separately.
"""

from __future__ import annotations

_XLMR_CODES = """
    af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha he hi hr
    hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my ne nl no om or pa pl ps
    pt ro ru sa sd si sk sl so sq sr su sv sw ta te th tl tr ug uk ur uz vi xh yi zh
"""
XLMR_LANGUAGES = frozenset(_XLMR_CODES.split())
XLMR_SOURCE = "XLM-R's 100 CC-100 languages, Conneau et al. 2020"
