"""LaTeX read aloud: $...$, $$...$$, \\(...\\) and \\[...\\] formulas, and loose LaTeX in running text
("O(n^2)", "d^2 cost"). One step of podcast.writing.speech."""

from __future__ import annotations

import re

# fmt: off
GREEK = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
)

MATH_WORDS: dict[str, str] = {
    **{g: g for g in GREEK}, **{g.capitalize(): g.capitalize() for g in GREEK},
    **{"var" + g: g for g in ("epsilon", "theta", "pi", "rho", "sigma", "phi")},
    "times": "times", "cdot": "times", "div": "divided by", "pm": "plus or minus", "mp": "minus or plus",
    "leq": "less than or equal to", "le": "less than or equal to", "geq": "greater than or equal to",
    "ge": "greater than or equal to", "neq": "not equal to", "ne": "not equal to", "approx": "approximately",
    "sim": "distributed as", "propto": "proportional to", "equiv": "equivalent to", "in": "in",
    "notin": "not in", "subset": "subset of", "subseteq": "subset of", "cup": "union", "cap": "intersection",
    "forall": "for all", "exists": "there exists", "infty": "infinity", "to": "to", "rightarrow": "to",
    "Rightarrow": "implies", "implies": "implies", "mapsto": "maps to", "partial": "partial",
    "nabla": "gradient", "log": "log", "ln": "log", "exp": "exp", "sin": "sine", "cos": "cosine",
    "tan": "tangent", "det": "determinant", "top": "transpose", "prime": "prime", "star": "star",
    "ast": "star", "ldots": "and so on", "cdots": "and so on", "dots": "and so on", "mid": "given",
    "ell": "l", "circ": "composed with", "otimes": "tensor", "odot": "times", "oplus": "plus",
    "max": "max", "min": "min", "argmax": "arg max", "argmin": "arg min", "softmax": "softmax",
    "sum": "the sum of", "prod": "the product of", "int": "the integral of", "lim": "the limit of",
    "expectation": "the expectation of", "sqrt": "the square root of",
}
"""LaTeX command (without backslash) -> words. Commands not listed are dropped, their arguments kept."""

BIG_OPERATORS: dict[str, str] = {
    "sum": "the sum", "prod": "the product", "int": "the integral", "max": "the max", "min": "the min",
    "argmax": "the arg max", "argmin": "the arg min", "lim": "the limit", "expectation": "the expectation",
}
"""Operators read with their limits: \\sum_{i=1}^{n} -> "the sum from i equals 1 to n of"."""

ACCENTS: dict[str, str] = {
    "hat": " hat", "widehat": " hat", "bar": " bar", "overline": " bar", "tilde": " tilde",
    "widetilde": " tilde", "vec": "", "dot": " dot",
}
"""Accent commands: \\hat{y} -> "y hat"."""

SCRIPT_WORDS: dict[str, str] = {
    "2": " squared", "3": " cubed", "T": " transpose", "\\top": " transpose", "-1": " inverse",
    "*": " star", "\\ast": " star", "\\star": " star", "'": " prime", "\\prime": " prime",
}
"""Superscripts with a name of their own; any other is read "to the power of"."""

MATH_OPERATORS: dict[str, str] = {
    "=": " equals ", "+": " plus ", "-": " minus ", "*": " times ", "/": " over ", "<": " less than ",
    ">": " greater than ", "!": " factorial ", "'": " prime ",
    "|": " ", "{": " ", "}": " ", "[": " ", "]": " ", "&": " ", "~": " ",
}
"""Characters inside a formula, read as operators."""
# fmt: on

_OPERATORS = str.maketrans(MATH_OPERATORS)
"""MATH_OPERATORS as a translation table: its keys are single characters, so one pass reads them all."""

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=[^\s\\])\$(?!\d)")
_ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
_SPACING = re.compile(
    r"\\(?:left|right|[bB]igg?[lr]?|displaystyle|textstyle|limits|nolimits|[,;:! ]|q?quad)(?![A-Za-z])"
)
_STYLED = re.compile(r"\\(?:math[a-z]*|text[a-z]*|operatorname\*?|boldsymbol|bm|mbox)\s*\{([^{}]*)\}")
_ACCENT = re.compile(rf"\\({'|'.join(ACCENTS)})\s*\{{([^{{}}]*)\}}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*(?:\[([^\]]*)\])?\s*\{([^{}]*)\}")
_EXPECTATION = re.compile(r"\\mathbb\s*\{E\}|\\operatorname\s*\{E\}")
_BIG_OP = re.compile(
    rf"\\({'|'.join(BIG_OPERATORS)})\s*_\s*(\{{[^{{}}]*\}}|\\?\w)(?:\s*\^\s*(\{{[^{{}}]*\}}|\\?\w))?"
)
_SUPERSCRIPT = re.compile(r"\^\s*(\{[^{}]*\}|\\[A-Za-z]+|-?\d+|[A-Za-z*'])")
_SUBSCRIPT = re.compile(r"_\s*(\{[^{}]*\}|\\[A-Za-z]+|[A-Za-z0-9]+)")
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_ESCAPED = re.compile(r"\\([{}%$&_#|])")
_BIG_O = re.compile(r"\b(O|Theta|Omega)\s*\(([^()]*)\)")
_APPLICATION = re.compile(r"\b([A-Za-z]|log|exp|softmax|sigmoid|ReLU|tanh)\(([^()]*)\)")
_ROOTS = {"": "the square root of", "2": "the square root of", "3": "the cube root of"}


def _unbrace(arg: str) -> str:
    return arg[1:-1] if arg.startswith("{") else arg


def _superscript(match: re.Match[str]) -> str:
    arg = _unbrace(match.group(1)).strip()
    return SCRIPT_WORDS.get(arg, f" to the power of {arg} ")


def _big_operator(match: re.Match[str]) -> str:
    name, sub, sup = match.group(1), _unbrace(match.group(2)).strip(), match.group(3)
    if sup:
        return f" {BIG_OPERATORS[name]} from {sub} to {_unbrace(sup).strip()} of "
    return f" {BIG_OPERATORS[name]} over {sub} of "


def _structures(tex: str) -> str:
    """One pass over the innermost braces: fonts, accents, fractions, roots, limits, scripts."""
    tex = _STYLED.sub(r"\1", tex)
    tex = _ACCENT.sub(lambda m: m.group(2) + ACCENTS[m.group(1)], tex)
    tex = _FRAC.sub(r" \1 over \2 ", tex)
    tex = _SQRT.sub(
        lambda m: f" {_ROOTS.get(m.group(1) or '', f'the {m.group(1)}th root of')} {m.group(2)} ", tex
    )
    tex = _BIG_OP.sub(_big_operator, tex)
    tex = _SUPERSCRIPT.sub(_superscript, tex)
    return _SUBSCRIPT.sub(lambda m: f" sub {_unbrace(m.group(1))} ", tex)


def read_math(tex: str) -> str:
    """A LaTeX formula (without its $ delimiters) read aloud, or "" when it cannot be read.

    >>> read_math(r"\\mathcal{O}(n^2)")
    'O of n squared'
    >>> read_math(r"\\frac{a}{b} + \\sqrt{d_k}")
    'a over b plus the square root of d sub k'
    >>> read_math(r"\\alpha \\leq 0.5, W^\\top x_i")
    'alpha less than or equal to 0.5, W transpose x sub i'
    >>> read_math(r"\\begin{pmatrix} 1 & 0 \\end{pmatrix}")
    ''
    """
    if "\\begin{" in tex:
        return ""
    tex = _SPACING.sub(" ", _EXPECTATION.sub(r"\\expectation", tex.replace("\\\\", ", ")))
    tex = re.sub(r"\\sim\s*(?=\d)", " about ", tex)
    for _ in range(8):  # nested braces resolve from the inside out, one level a pass
        simpler = _structures(tex)
        if simpler == tex:
            break
        tex = simpler
    tex = _ESCAPED.sub(lambda m: " percent " if m.group(1) == "%" else " ", tex)
    tex = _COMMAND.sub(lambda m: f" {MATH_WORDS.get(m.group(1), '')} ", tex)
    tex = _BIG_O.sub(lambda m: f"{m.group(1)} of {m.group(2)}", tex)
    tex = _APPLICATION.sub(lambda m: f"{m.group(1)} of {m.group(2).replace('|', ' given ')}", tex)
    tex = " ".join(tex.translate(_OPERATORS).split())
    tex = re.sub(r"\s+([,.;:)])", r"\1", tex)
    return tex if re.search(r"[A-Za-z0-9]", tex) else ""


_LOOSE_COMMAND = re.compile(r"\\[A-Za-z]+\*?(?:\s*\{[^{}]*\})*(?:\([^()]*\))?")
_LOOSE_POWER = re.compile(r"(?<![\w^])[A-Za-z0-9]+(?:\^(?:\{[^{}]*\}|-?[\w]+))+")
_LOOSE_BIG_O = re.compile(r"\bO\(([^()]{1,60})\)")


def read_formulas(text: str) -> str:
    """$...$, $$...$$, \\(...\\), \\[...\\] and loose LaTeX in running text, read with read_math.

    >>> read_formulas(r"Attention is $\\mathcal{O}(n^2)$ in length; ours is O(n log n), with d^2 cost.")
    'Attention is O of n squared in length; ours is O of n log n, with d squared cost.'
    """
    text = _ENVIRONMENT.sub(" ", text)
    text = _DISPLAY_MATH.sub(lambda m: f" {read_math(next(g for g in m.groups() if g))} ", text)
    text = _INLINE_MATH.sub(lambda m: read_math(m.group(1)), text)
    text = _LOOSE_COMMAND.sub(lambda m: read_math(m.group(0)), text)
    text = _LOOSE_POWER.sub(lambda m: read_math(m.group(0)), text)
    return _LOOSE_BIG_O.sub(lambda m: "O of " + read_math(m.group(1)), text)
