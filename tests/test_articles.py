"""docs/articles.md is generated from the code's citations of the regulation and kept current."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import articles  # noqa: E402


def test_docs_articles_is_current():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "articles.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_numerals_round_trip_for_every_article():
    for n in range(1, 30):
        assert articles.number(articles.numeral(n)) == n
    assert articles.numeral(17) == "十七" and articles.numeral(21) == "二十一"


def test_citations_are_articles_not_ordinals_or_other_laws():
    assert articles._articles("（第三条、第八条）第七条的规定 第十七条专项") == {3, 7, 8, 17}
    assert articles._articles("指出第一条断裂的条目") == set()
    assert articles._articles("《公共场所卫生管理条例》第三条") == set()
