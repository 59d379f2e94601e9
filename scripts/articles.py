"""Write docs/articles.md: each article of the regulation -> the code that cites it -> the tests.

The code cites the article a rule comes from (``# 第七条: ...``, docstrings, messages). This
script reads those citations with ``ast`` (no import of the package, no store) and lists, per
article, the functions, classes and modules that cite it, and the tests that prove it: a test
that cites the article itself (in its name, docstring, comments or messages, or in its module's
docstring) or that calls a function citing it by name. Articles no code cites are listed with
the reason, so a gap shows.

    python scripts/articles.py            # rewrite docs/articles.md
    python scripts/articles.py --check    # exit 1 if docs/articles.md is out of date (CI)
"""
from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "articles.md"

NUMERALS = "一二三四五六七八九十"
# Not another law's article (《某条例》第三条) nor an ordinal (第一条记录 "the first entry").
CITATION = re.compile(r"(?<!》)第([一二三四五六七八九十]+)条(?![\u4e00-\u9fff](?<![的规要和与及至、公专]))")

# What each article requires, in a few words (the full text: the 细则 itself).
ARTICLES = {
    1: "purpose and legal basis (制定依据)",
    2: "scope: one inspection of several check items of one entity (联合双随机抽查)",
    3: "principles: lawful, coordinated, fair and open, 谁监管、谁牵头、谁发起",
    4: "credit-risk classification decides ratios and frequency (信用风险分类监管)",
    5: "electronic, fully traced process (全程留痕、责任可溯); both directories kept current",
    6: "the joint checklist (联合清单): initiating and cooperating departments, objects, items; local additions filed (备案)",
    7: "annual plan published by the end of March; joint tasks ≥ 10 % of each department's lead tasks",
    8: "the initiating department creates the task: name, window, items, scope, ratio, cooperating departments",
    9: "the random draw from the directory or an imported list, by ratio; the locked list never changes",
    10: "each executing department draws its officers",
    11: "teams led by the initiating department's officer; replacement only for 岗位调整、工作、健康",
    12: "one visit covers every check item (一次性完成)",
    13: "the task's check method; on-site inspection where needed",
    14: "pre-check, on-site inspection, problems handled, the 实地检查表 signed or the refusal noted",
    15: "谁检查、谁录入、谁公开: results published",
    16: "follow-up: handed to the competent department, 移送司法机关",
    17: "special checks (专项) with raised ratios and frequency",
    18: "records filed and archived (立卷归档)",
    19: "inspections must not disrupt business; misconduct handled",
    20: "interpretation by the joint meeting",
    21: "in force for three years from issue",
}
# Articles that give the tool nothing to do, and why.
NO_CODE = {
    1: "the purpose and legal basis of the rules themselves",
    19: "conduct of officers in the field; nothing for a record-keeping tool to enforce",
    20: "who interprets the rules",
    21: "validity of the rules themselves",
}


def number(numeral: str) -> int:
    """第十七条 -> 17 (the numerals up to 二十九 that the 细则 uses)."""
    if "十" not in numeral:
        return NUMERALS.index(numeral) + 1
    tens, _, units = numeral.partition("十")
    return (NUMERALS.index(tens) + 1 if tens else 1) * 10 + (NUMERALS.index(units) + 1 if units else 0)


def numeral(n: int) -> str:
    tens, units = divmod(n, 10)
    if not tens:
        return NUMERALS[units - 1]
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[units - 1] if units else "")


def _articles(text: str) -> set[int]:
    return {number(m) for m in CITATION.findall(text)}


class _Scopes(ast.NodeVisitor):
    """For each def/class: its qualified name, its own source lines (nested defs excluded)."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ast.AST]] = []
        self._stack: list[str] = []

    def _visit(self, node: ast.AST) -> None:
        self._stack.append(node.name)  # type: ignore[attr-defined]
        self.scopes.append((".".join(self._stack), node))
        self.generic_visit(node)
        self._stack.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit


def _cited(path: Path) -> tuple[set[int], dict[str, set[int]], dict[str, ast.AST]]:
    """(articles cited at module level, {qualname: articles cited in its own lines}, {qualname: node})."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    scopes = _Scopes()
    scopes.visit(tree)
    owner: list[str | None] = [None] * (len(lines) + 2)
    for name, node in scopes.scopes:  # outer scopes first, so inner ones overwrite their lines
        for line in range(node.lineno, node.end_lineno + 1):  # type: ignore[attr-defined]
            owner[line] = name
    module: set[int] = set()
    per: dict[str, set[int]] = defaultdict(set)
    for lineno, text in enumerate(lines, start=1):
        found = _articles(text)
        if found:
            (per[owner[lineno]] if owner[lineno] else module).update(found)
    return module, dict(per), {name: node for name, node in scopes.scopes}


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
    return names


def collect() -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """({article: code places citing it}, {article: tests proving it})."""
    code: dict[int, set[str]] = defaultdict(set)
    by_function: dict[str, set[int]] = defaultdict(set)  # bare function name -> articles
    defined: dict[str, int] = defaultdict(int)
    for path in sorted((ROOT / "src").rglob("*.py")):
        module_name = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
        module, per, nodes = _cited(path)
        for article in module:
            code[article].add(f"`{module_name}`")
        for qualname, articles in per.items():
            for article in articles:
                code[article].add(f"`{module_name}.{qualname}`")
            bare = qualname.rsplit(".", 1)[-1]
            if not bare.startswith("_"):
                by_function[bare].update(articles)
        for qualname in nodes:
            defined[qualname.rsplit(".", 1)[-1]] += 1
    # A name defined more than once (run, show, load…) says nothing about which one a test calls.
    by_function = {name: arts for name, arts in by_function.items() if defined[name] == 1 and len(name) > 5}

    tests: dict[int, set[str]] = defaultdict(set)
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        module, per, nodes = _cited(path)
        for qualname, node in nodes.items():
            if not qualname.rsplit(".", 1)[-1].startswith("test"):
                continue
            articles = set(module) | per.get(qualname, set())
            for name in _called_names(node):
                articles |= by_function.get(name, set())
            for article in articles:
                tests[article].add(f"`{path.name}::{qualname}`")
    return code, tests


def render() -> str:
    code, tests = collect()
    out = [
        "# The regulation, article by article: where the code implements it, which tests prove it",
        "",
        "Generated by `python scripts/articles.py` from the citations in the code (`第N条` in",
        "comments, docstrings and messages); `tests/test_articles.py` fails when this page is out of",
        "date. A test counts for an article when it cites the article (or its module does) or calls",
        "a function that cites it. A count says where to look, not that a rule is complete: the",
        "rules are 《连州市市场监管领域部门联合“双随机、一公开”抽查工作细则》 (2025).",
        "",
        "| article | requires | code places | tests |",
        "|---|---|---|---|",
    ]
    for n, summary in ARTICLES.items():
        out.append(f"| [第{numeral(n)}条](#第{numeral(n)}条) | {summary} | {len(code.get(n, ()))} | {len(tests.get(n, ()))} |")
    for n, summary in ARTICLES.items():
        out += ["", f"## 第{numeral(n)}条", "", summary, ""]
        if n in NO_CODE and not code.get(n):
            out.append(f"No code: {NO_CODE[n]}.")
            continue
        places, proofs = sorted(code.get(n, ())), sorted(tests.get(n, ()))
        out.append("Implemented in: " + (", ".join(places) if places else "**nothing cites it yet**") + ".")
        out.append("")
        out.append("Proved by: " + (", ".join(proofs) if proofs else "**no test yet**") + ".")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print("docs/articles.md is out of date: run `python scripts/articles.py`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
