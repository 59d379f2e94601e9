"""Write a large, deterministic objects CSV for benchmarks.

    python bench/make_directory.py OUT.csv [--rows N]      # N defaults to 1,000,000

The header is the one of examples/lianzhou/objects.csv. Every code is a valid,
unique GB 32100 unified social credit code of 连州市 (441882): positions 9-17 are
"MA" + six characters derived from the row number (a bijection onto base 31,
so codes never repeat, for up to 31^6 ≈ 887 million rows) + a GB 11714 check
character, and position 18 is the GB 32100 check character. Both checks are
computed with lookup tables, so 1M rows take a couple of seconds. The other
columns cycle deterministically through short vocabularies; no randomness.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys

HEADER = ["uscc", "name", "entity_type", "industry", "region", "address",
          "status", "risk_class", "registered_on"]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # GB 32100
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714 (letters count 10-35)
ORG_CHECK = ["0" if v == 11 else "X" if v == 10 else str(v)
             for v in (11 - r for r in range(11))]  # indexed by sum mod 11

BLOCK = 31 ** 3
SPACE = 31 ** 6
STRIDE = 1_000_003  # coprime with 31: row -> (row * STRIDE + OFFSET) % 31^6 is a bijection
OFFSET = 20_250_101

# Position 2 of the code and the matching entity types, cycled over rows.
KINDS = [  # (position 2, entity type, name suffix)
    ("2", "个体工商户", ""), ("1", "有限责任公司", "有限公司"), ("2", "个体工商户", ""),
    ("1", "有限责任公司(自然人独资)", "有限公司"), ("2", "个体工商户", ""),
    ("2", "个体工商户", ""), ("1", "有限责任公司", "有限公司"), ("2", "个体工商户", ""),
    ("3", "农民专业合作社", ""), ("1", "个人独资企业", ""), ("2", "个体工商户", ""),
    ("1", "股份有限公司", "股份有限公司"), ("2", "个体工商户", ""),
    ("1", "合伙企业", "（有限合伙）"),
]
INDUSTRIES = [
    ("餐饮服务", "餐馆"), ("食品销售", "商店"), ("食品生产", "食品厂"), ("药品零售", "药店"),
    ("住宿服务", "宾馆"), ("建材销售", "建材店"), ("机动车维修", "汽修店"),
    ("美容美发", "理发店"), ("农资销售", "农资店"), ("印刷", "印刷厂"), ("网吧", "网吧"),
    ("娱乐场所", "歌舞厅"), ("加油站", "加油站"), ("特种设备使用", "钙业"),
    ("医疗器械经营", "医疗器械店"), ("校外培训", "培训中心"), ("旅行社", "旅行社"),
]
REGIONS = ["连州镇", "星子镇", "保安镇", "东陂镇", "西岸镇", "龙坪镇", "九陂镇",
           "丰阳镇", "大路边镇", "西江镇", "三水瑶族乡", "瑶安瑶族乡", "连州镇"]
CITY_ROADS = ["中山北路", "连州大道", "北湖路", "建设路", "湟川路", "城北路", "慧光路"]
TOWN_ROADS = ["圩新街", "圩老街", "圩中心街", "新村", "塘头村", "石角村", "圩商业街"]
TRADES = ["湟川", "巾峰", "燕喜", "慧光", "顺发", "鸿运", "兴旺", "佳和", "福来", "金辉",
          "荣达", "富源", "嘉盛", "恒丰", "宏图", "瑞丰", "和盛", "永利", "广源", "明珠",
          "德信", "利民", "惠民", "益民", "金穗", "禾丰", "绿源"]
# 20 statuses: 存续 11, 在业 5, 吊销 1, 注销 1, 迁出 1, 撤销 1 (一 in 20 each).
STATUSES = ["存续", "在业", "存续", "存续", "在业", "存续", "吊销", "存续", "在业", "存续",
            "注销", "存续", "在业", "存续", "迁出", "存续", "在业", "存续", "撤销", "存续"]
# 20 classes: A 9, B 7, C 3, D 1 (45/35/15/5 %).
RISKS = ["A", "B", "A", "C", "A", "B", "A", "B", "D", "A",
         "B", "A", "C", "B", "A", "B", "A", "C", "B", "A"]


def _tables():
    """For each half of the six free characters: (text, GB 32100 sum, GB 11714 sum)."""
    def digits(n):
        return [n // 961, n // 31 % 31, n % 31]

    hi, lo = [], []
    for n in range(BLOCK):
        d = digits(n)
        text = "".join(ALPHABET[x] for x in d)
        org_vals = [int(c, 36) for c in text]
        hi.append((text,
                   sum(v * w for v, w in zip(d, WEIGHTS[10:13])),
                   sum(v * w for v, w in zip(org_vals, ORG_WEIGHTS[2:5]))))
        lo.append((text,
                   sum(v * w for v, w in zip(d, WEIGHTS[13:16])),
                   sum(v * w for v, w in zip(org_vals, ORG_WEIGHTS[5:8]))))
    return hi, lo


def _prefix_sum(prefix: str) -> int:
    """GB 32100 weighted sum of positions 1-10 ("9x441882MA")."""
    return sum(VALUE[c] * w for c, w in zip(prefix, WEIGHTS[:10]))


def rows(n_rows: int):
    hi, lo = _tables()
    org_ma = int("M", 36) * ORG_WEIGHTS[0] + int("A", 36) * ORG_WEIGHTS[1]
    base = {p: _prefix_sum(f"9{p}441882MA") for p in "123"}
    w17 = WEIGHTS[16]
    days = []
    day = dt.date(2005, 1, 1)
    while day <= dt.date(2025, 12, 31):
        days.append(day.isoformat())
        day += dt.timedelta(days=1)
    # Street part of the address for each (region, road) pair: city roads in 连州镇,
    # township-market streets and villages elsewhere.
    nrd = len(CITY_ROADS)
    places = []
    for region in REGIONS:
        for k in range(nrd):
            if region == "连州镇":
                places.append(f"广东省连州市{region}{CITY_ROADS[k]}")
            else:
                road = TOWN_ROADS[k]
                if road.startswith("圩"):
                    road = region.removesuffix("瑶族乡").removesuffix("镇") + road
                places.append(f"广东省连州市{region}{road}")
    nk, ni, nr, nt = len(KINDS), len(INDUSTRIES), len(REGIONS), len(TRADES)
    ns, nq, nd = len(STATUSES), len(RISKS), len(days)

    for i in range(n_rows):
        h, l = divmod((i * STRIDE + OFFSET) % SPACE, BLOCK)
        h_text, h_sum, h_org = hi[h]
        l_text, l_sum, l_org = lo[l]
        oc = ORG_CHECK[(org_ma + h_org + l_org) % 11]
        p2, entity_type, suffix = KINDS[i % nk]
        total = base[p2] + h_sum + l_sum + VALUE[oc] * w17
        code = f"9{p2}441882MA{h_text}{l_text}{oc}{ALPHABET[-total % 31]}"
        industry, shop = INDUSTRIES[i % ni]
        region = REGIONS[i % nr]
        trade = TRADES[i % nt]
        if p2 == "2":
            name = f"连州市{region}{trade}{shop}"
        elif p2 == "3":
            name = f"连州市{trade}种养专业合作社"
            industry = "农业种植"
        else:
            name = f"连州市{trade}{shop}{suffix}"
        place = places[(i % nr) * nrd + i % nrd]
        yield (code, name, entity_type, industry, region, f"{place}{i % 199 + 1}号",
               STATUSES[i % ns], RISKS[(i + i // ns) % nq], days[(i * 7919) % nd])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="CSV file to write")
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="number of rows (default 1,000,000)")
    args = parser.parse_args(argv)
    if not 0 <= args.rows <= SPACE:
        parser.error(f"--rows must be between 0 and {SPACE}")
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        it = rows(args.rows)
        while True:
            chunk = [r for _, r in zip(range(50_000), it)]
            if not chunk:
                break
            writer.writerows(chunk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
