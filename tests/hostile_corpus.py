"""The hostile corpus (issue 16): texts an attacker with write access to one imported list would type.

Formulas (DDE, HYPERLINK, each OWASP leading character), markup, Markdown table syntax, line
separators the csv module does not split at, and numbers that must stay exactly as they are.
Bombs are built by the tests that use them, never committed as large files.
"""

FORMULAS = [
    '=HYPERLINK("http://x","click")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]
MARKUP = [
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">",
    "<script>document.body.setAttribute('data-pwned','2')</script>",
    "a | b | c",
    "[click](javascript:alert(1)) **bold** `code` \\| ~~x~~",
]
SEPARATORS = ["line\u2028two", "para\u2029two", "next\x85line"]
NUMBERS = ["-13800000000", "-5.5", "+86 138 0000 0000", "-1,234.5", "-12.5%"]

TEXTS = FORMULAS + MARKUP + SEPARATORS
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def hostile(i: int) -> str:
    """The i-th hostile text, cycling through the corpus."""
    return TEXTS[i % len(TEXTS)]
