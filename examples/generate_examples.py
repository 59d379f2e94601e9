"""Generate the bundled example data for 连州市 (examples/lianzhou/).

This is *example data*, not a draw: it uses a fixed ``random.Random(2025)`` so
that running the script twice writes byte-identical files.

    python examples/generate_examples.py            # writes examples/lianzhou/*

Every entity and officer is invented. The departments, townships and the shape
of the codes are real; trade names, roads and villages are illustrative.

Unified social credit codes (GB 32100-2015) are built to be valid, and their
organisation-code part (positions 9-17) also carries a valid GB 11714 check
character, so neither the USCC check nor an org-code warning fires.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "lianzhou"

try:  # the package, when installed or on PYTHONPATH
    from shuangsuiji.domain.uscc import ALPHABET, is_valid, make
except ImportError:  # running from a checkout
    sys.path.insert(0, str(HERE.parent / "src"))
    from shuangsuiji.domain.uscc import ALPHABET, is_valid, make

SEED = 2025
DIVISION = "441882"  # 广东省清远市连州市

# ---------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------

# Members of the 市"双随机、一公开"监管工作联席会议 (code → name).
DEPARTMENTS = [
    ("SCJG", "连州市市场监督管理局"),
    ("WJ", "连州市卫生健康局"),
    ("JY", "连州市教育局"),
    ("GA", "连州市公安局"),
    ("SW", "连州市商务局"),
    ("GX", "连州市工业和信息化局"),
    ("RS", "连州市人力资源和社会保障局"),
    ("ZJ", "连州市住房和城乡建设局"),
    ("FG", "连州市发展和改革局"),
    ("WG", "连州市文化广电旅游体育局"),
    ("STHJ", "清远市生态环境局连州分局"),
    ("YJ", "连州市应急管理局"),
    ("XF", "连州市消防救援大队"),
    ("NY", "连州市农业农村局"),
    ("SWJ", "国家税务总局连州市税务局"),
    ("JT", "连州市交通运输局"),
    ("XC", "中共连州市委宣传部"),  # leads the printing checks of the joint checklist
]

# The 10 towns and 2 Yao ethnic townships of 连州市, with a weight for how many
# market entities each holds (the city seat 连州镇 holds the most).
REGIONS = [
    ("连州镇", 34),
    ("星子镇", 9),
    ("保安镇", 7),
    ("东陂镇", 7),
    ("西岸镇", 6),
    ("龙坪镇", 6),
    ("九陂镇", 6),
    ("丰阳镇", 5),
    ("大路边镇", 5),
    ("西江镇", 4),
    ("三水瑶族乡", 2),
    ("瑶安瑶族乡", 2),
]

# Illustrative streets of the city seat and of the township markets (圩).
CITY_ROADS = [
    "中山北路", "中山南路", "连州大道", "北湖路", "建设路", "城北路",
    "慧光路", "南门路", "沿江路", "新城大道", "湟川路", "燕喜路",
]
TOWN_STREETS = ["圩新街", "圩老街", "圩中心街", "圩商业街", "圩解放街", "圩朝阳路"]
VILLAGES = [
    "塘头村", "石角村", "大坪村", "上坪村", "下洞村", "黄坑村",
    "新村", "水口村", "白石村", "岭头村", "沙坪村", "田心村",
]

# Trade names (字号) and the personal-style names that 个体工商户 often use.
TRADE_NAMES = [
    "湟川", "巾峰", "燕喜", "慧光", "楞伽", "福山", "连江", "北湖", "星河", "南岭",
    "潭岭", "顺发", "鸿运", "兴旺", "佳和", "福来", "金辉", "荣达", "富源", "嘉盛",
    "恒丰", "宏图", "瑞丰", "和盛", "永利", "广源", "明珠", "德信", "利民", "惠民",
    "益民", "金穗", "禾丰", "绿源", "丰收", "山水", "福临", "万家", "百姓", "宜佳",
    "天福", "众联", "永盛", "兴隆", "华盛", "新兴", "昌隆", "聚福", "鑫源", "盛世",
    "同心", "泰和", "安康", "康宁", "康泰", "仁和", "正和", "诚信", "联盛", "骏达",
    "祥瑞", "锦绣", "天和", "君悦", "喜来", "乐家", "粤北", "湘粤", "好邻居", "合众",
]
PERSONAL_NAMES = [
    "阿华", "阿明", "阿芳", "阿强", "阿娟", "老陈", "老黄", "老李", "老罗", "小梁",
    "刘记", "黄记", "陈记", "罗记", "邓记", "明记", "强记", "辉记", "林记", "廖记",
]

# Entity types (市场主体类型), grouped by position 2 of the code.
ENTERPRISE_TYPES = [  # position 2 = "1"
    "有限责任公司", "有限责任公司(自然人独资)", "股份有限公司", "个人独资企业", "合伙企业",
]
INDIVIDUAL_TYPE = "个体工商户"  # position 2 = "2"
COOPERATIVE_TYPE = "农民专业合作社"  # position 2 = "3"

DEFAULT_FORMS = {"有限责任公司": 55, "有限责任公司(自然人独资)": 35, "个人独资企业": 10}

# Industries: weight among individual businesses / among enterprises, the shop
# words for 个体工商户 and 个人独资企业 names, the business words before
# "有限公司", and (optionally) which enterprise forms the industry takes.
INDUSTRIES = [
    dict(industry="餐饮服务", individual=30, enterprise=10,
         shop=["餐馆", "饭店", "小吃店", "粉店", "快餐店", "农家乐", "大排档", "烧烤店", "茶餐厅"],
         company=["餐饮管理", "餐饮服务", "饮食"]),
    dict(industry="食品销售", individual=28, enterprise=12,
         shop=["食品店", "商店", "便利店", "副食店", "超市", "粮油店", "生鲜店"],
         company=["商贸", "超市", "食品贸易"]),
    dict(industry="食品生产", individual=5, enterprise=10,
         shop=["腊味加工场", "米粉加工场", "豆腐坊", "米酒坊", "糕点加工场"],
         company=["食品", "腊味食品", "农产品加工", "米业", "酒业"],
         forms={"有限责任公司": 55, "有限责任公司(自然人独资)": 30, "个人独资企业": 10, "股份有限公司": 5}),
    dict(industry="药品零售", individual=5, enterprise=10,
         shop=["药店", "大药房", "医药店"],
         company=["大药房", "医药", "药业连锁"]),
    dict(industry="医疗器械经营", individual=0, enterprise=5,
         shop=["医疗器械店"],
         company=["医疗器械", "医疗科技"]),
    dict(industry="住宿服务", individual=8, enterprise=8,
         shop=["宾馆", "旅馆", "酒店", "民宿", "旅店"],
         company=["酒店", "酒店管理", "旅业"]),
    dict(industry="娱乐场所", individual=2, enterprise=4,
         shop=["歌舞厅", "KTV"],
         company=["娱乐", "文化娱乐"]),
    dict(industry="印刷", individual=3, enterprise=4,
         shop=["印刷厂", "图文印刷店"],
         company=["印刷", "彩印包装"]),
    dict(industry="建材销售", individual=6, enterprise=10,
         shop=["建材店", "五金建材店", "陶瓷店", "水泥经销部"],
         company=["建材", "建筑材料", "新型建材"]),
    dict(industry="加油站", individual=0, enterprise=6,
         shop=["加油站"],
         company=["石油", "能源", "石化"],
         forms={"有限责任公司": 60, "股份有限公司": 15, "个人独资企业": 25}),
    dict(industry="机动车维修", individual=8, enterprise=5,
         shop=["汽车修理厂", "汽修店", "摩托车维修店", "汽车美容店"],
         company=["汽车服务", "汽车维修", "汽车贸易"]),
    dict(industry="特种设备使用", individual=0, enterprise=8,
         shop=["水泥厂"],
         company=["钙业", "矿业", "水泥", "物业管理", "电力", "纸业"],
         forms={"有限责任公司": 70, "有限责任公司(自然人独资)": 15, "股份有限公司": 15}),
    dict(industry="游泳场馆", individual=1, enterprise=2,
         shop=["游泳馆", "游泳池"],
         company=["体育发展", "游泳健身"]),
    dict(industry="网吧", individual=2, enterprise=3,
         shop=["网咖", "网吧"],
         company=["网络科技", "网络服务"]),
    dict(industry="农资销售", individual=6, enterprise=5,
         shop=["农资店", "农药化肥店", "种子店"],
         company=["农资", "农业科技", "农业生产资料"]),
    dict(industry="旅行社", individual=0, enterprise=3,
         shop=["旅行社"],
         company=["旅行社", "国际旅行社"],
         forms={"有限责任公司": 70, "有限责任公司(自然人独资)": 30}),
    dict(industry="报废机动车回收", individual=0, enterprise=2,
         shop=["报废汽车回收站"],
         company=["报废汽车回收", "再生资源回收"],
         forms={"有限责任公司": 100}),
    dict(industry="校外培训", individual=0, enterprise=5,
         shop=["培训中心"],
         company=["艺术培训", "教育科技", "体育培训"],
         forms={"有限责任公司": 60, "有限责任公司(自然人独资)": 40}),
    dict(industry="美容美发", individual=12, enterprise=2,
         shop=["理发店", "美发店", "美容院", "美甲店", "发型设计工作室"],
         company=["美容美发", "美业"]),
    dict(industry="工程造价咨询", individual=0, enterprise=3,
         shop=["工程造价咨询事务所"],
         company=["工程造价咨询", "工程咨询", "建设工程咨询"],
         forms={"有限责任公司": 70, "合伙企业": 30}),
    dict(industry="机动车检验检测", individual=0, enterprise=2,
         shop=["机动车检测站"],
         company=["机动车检测", "汽车检测"],
         forms={"有限责任公司": 100}),
    dict(industry="无线电发射设备销售", individual=4, enterprise=3,
         shop=["手机店", "通讯店", "电器店"],
         company=["通讯", "电子科技", "通信器材"]),
    dict(industry="烟花爆竹零售", individual=2, enterprise=0,
         shop=["烟花爆竹店"],
         company=["烟花爆竹"]),
    dict(industry="化妆品销售", individual=3, enterprise=2,
         shop=["化妆品店", "美妆店"],
         company=["化妆品", "日用品"]),
]

# 农民专业合作社: industry, products, and the activity word in the name.
COOPERATIVE_LINES = [
    ("农业种植", ["水晶梨", "菜心", "红葱", "玉竹", "油茶", "蔬菜", "水果", "茶叶", "竹笋"], "种植", 3),
    ("畜禽养殖", ["生猪", "家禽", "肉牛", "蜜蜂", "山羊"], "养殖", 1),
    ("农业种植", ["种养", "农业"], "", 1),
]

# How many rows of each kind objects.csv holds.
N_INDIVIDUALS = 220
N_ENTERPRISES = 160
N_COOPERATIVES = 20

# Registration status (登记状态), exact counts over the 400 rows.
STATUS_COUNTS = [("存续", 236), ("在业", 120), ("吊销", 16), ("注销", 14), ("迁出", 12), ("撤销", 2)]

# Credit-risk classes (国市监信发〔2022〕6号), exact counts, and their Chinese names.
RISK_COUNTS = [("A", 180), ("B", 140), ("C", 60), ("D", 20)]
RISK_NAMES = {"A": "低风险", "B": "一般风险", "C": "较高风险", "D": "高风险"}
RISK_AS_NAME = {"A": 2, "B": 2, "C": 1, "D": 1}  # rows written with the Chinese name

# A tag most officers of a department hold (the bulk of its checks), with its share.
COMMON_TAG = {"SCJG": ("食品安全", 0.75)}
# Main tag of each officer in turn (default: the department's tags in rotation).
PRIMARY_TAGS = {
    "SCJG": ["特种设备", "药品", "食品安全", "医疗器械", "特种设备", "价格",
             "产品质量", "药品", "计量", "广告", "企业公示信息", "化妆品"],
}

# Officers: how many per department, their tags, and the SCJG officers' townships.
INSPECTOR_COUNTS = {
    "SCJG": 12, "WJ": 4, "GA": 3, "WG": 2, "STHJ": 2, "XF": 2, "YJ": 2, "SWJ": 2,
    "JY": 2, "RS": 2, "ZJ": 2, "FG": 2, "NY": 2, "SW": 2, "GX": 2, "JT": 2, "XC": 2,
}
EXPERTISE = {
    "SCJG": ["食品安全", "特种设备", "药品", "医疗器械", "化妆品", "价格", "广告",
             "计量", "产品质量", "企业公示信息", "知识产权"],
    "WJ": ["卫生监督", "公共场所卫生", "职业卫生", "医疗机构"],
    "JY": ["教育", "校外培训", "学校食堂"],
    "GA": ["治安", "旅馆业治安", "危险化学品", "网络安全"],
    "SW": ["商务", "报废机动车回收", "成品油", "单用途预付卡"],
    "GX": ["无线电", "民用爆炸物品", "工业"],
    "XC": ["出版印刷", "新闻出版"],
    "RS": ["劳动保障", "人力资源市场"],
    "ZJ": ["建筑市场", "工程造价", "燃气", "房地产"],
    "FG": ["工程咨询", "招标投标", "价格"],
    "WG": ["文化市场", "娱乐场所", "网吧", "旅游", "出版物印刷", "体育经营"],
    "STHJ": ["环境监测", "排污许可", "机动车排放"],
    "YJ": ["安全生产", "危险化学品", "烟花爆竹"],
    "XF": ["消防"],
    "NY": ["农资", "农药", "兽药", "种子", "农产品质量安全"],
    "SWJ": ["税务", "发票"],
    "JT": ["道路运输", "机动车维修", "驾驶员培训"],
}
SCJG_REGIONS = [
    "连州镇", "连州镇", "连州镇", "星子镇", "保安镇", "东陂镇",
    "西岸镇", "龙坪镇", "九陂镇", "丰阳镇", "大路边镇", "全市",
]
INSPECTOR_STATUS_SPECIAL = ["休假", "休假", "休假", "借调", "停止执法"]  # the rest are 在岗
N_EXPIRED = 3  # certificates that ran out in 2025 (the app must exclude them)
EXPIRED_ON = ["2025-03-31", "2025-06-30", "2025-09-30"]

SURNAMES = [
    "黄", "陈", "李", "梁", "罗", "邓", "莫", "欧", "唐", "廖", "谢", "曾", "何", "朱",
    "林", "刘", "吴", "周", "冯", "邵", "房", "成", "盘", "沈", "潘", "钟", "张", "王",
]
GIVEN_FIRST = ["志", "建", "晓", "伟", "俊", "丽", "嘉", "永", "海", "少", "文", "秀", "国", "振", "雪", "子"]
GIVEN_SECOND = ["强", "华", "明", "芳", "敏", "军", "婷", "辉", "杰", "玲", "峰", "燕", "超", "琳", "斌", "宁"]

CONFLICT_REASONS = [
    "近亲属经营", "配偶在该企业任职", "曾任该企业顾问", "利害关系申报",
    "近亲属持股", "被检查对象申请回避",
]
N_CONFLICTS = 8

OBJECT_FIELDS = ["uscc", "name", "entity_type", "industry", "region", "address",
                 "status", "risk_class", "registered_on"]
INSPECTOR_FIELDS = ["cert_no", "name", "department", "cert_expires_on", "expertise",
                    "region", "status"]
CONFLICT_FIELDS = ["cert_no", "uscc", "reason"]

# The README written beside the data (row counts filled in).
README = """\
# Example data: 连州市 (441882)

Invented data for trying `shuangsuiji` on the joint "双随机、一公开" checks of
连州市, Guangdong. The files are written by `examples/generate_examples.py`
(fixed seed `random.Random(2025)`, so every run writes the same bytes), this
README included. Do not edit them by hand: change the vocabularies in the
script and run

    python examples/generate_examples.py

| file | what it is | rows |
|---|---|---|
| `departments.yaml` | member departments of the joint meeting (联席会议): `code` (upper-case ASCII) and full name | {departments} |
| `objects.csv` | directory of inspection objects (检查对象名录库): `uscc,name,entity_type,industry,region,address,status,risk_class,registered_on` | {objects} |
| `inspectors.csv` | directory of enforcement officers (执法检查人员名录库): `cert_no,name,department,cert_expires_on,expertise,region,status`; `expertise` is `;`-separated | {inspectors} |
| `conflicts.csv` | declared conflicts of interest (回避): `cert_no,uscc,reason` | {conflicts} |

All CSVs are UTF-8 without BOM, comma-separated, LF line ends; dates are ISO
`YYYY-MM-DD`.

## How realistic

- Real: the department names, the 10 towns and 2 Yao townships of 连州市,
  the shape of the codes, the entity types, statuses and risk classes.
- Every code is a valid GB 32100 unified social credit code of 441882
  (92 individual business, 91 enterprise, 93 farmers' co-operative); the
  organisation-code part also has a valid GB 11714 check character. Entities
  registered before October 2015 carry an old 9-digit organisation code,
  later ones a "MA…" code.
- Invented: every entity, name, address and officer. Trade names, roads and
  villages are illustrative; any likeness to a real business or person is
  chance. Certificate numbers are `441882` + department number + serial.
- Built-in cases for the app to handle: statuses 吊销/注销/迁出/撤销 (not
  drawable), a few risk classes written in Chinese (低风险/一般风险/较高风险/高风险)
  instead of A-D, three certificates that expired in 2025, officers on 休假,
  借调 or 停止执法, and conflicts on live entities.

For benchmarks, `bench/make_directory.py OUT.csv [--rows N]` writes a large
directory in the same format.
"""

# ---------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_check(first8: str) -> str:
    """GB 11714 check character of an 8-character organisation code."""
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def org_part(rng: random.Random, registered: dt.date, position2: str) -> str:
    """Positions 9-17: an old organisation code, or a new "MA…" code by year."""
    if position2 != "2" and registered < dt.date(2015, 10, 1):
        first8 = rng.choice("3567") + "".join(rng.choice("0123456789") for _ in range(7))
    else:
        year = max(registered.year, 2016)
        stem = {2016: "MA4U", 2017: "MA4W", 2018: "MA5", 2019: "MA5", 2020: "MA5",
                2021: "MAA", 2022: "MAB", 2023: "MAC", 2024: "MAD"}.get(year, "MAE")
        first8 = stem + "".join(rng.choice(ALPHABET) for _ in range(8 - len(stem)))
    return first8 + org_check(first8)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def weighted(rng: random.Random, pairs):
    items = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(items, weights=weights, k=1)[0]


def counted(rng: random.Random, pairs) -> list:
    """A shuffled list holding each value exactly its count times."""
    values = [v for v, n in pairs for _ in range(n)]
    rng.shuffle(values)
    return values


def random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def stem(region: str) -> str:
    return region.removesuffix("瑶族乡").removesuffix("镇")


def address(rng: random.Random, region: str) -> str:
    if region == "连州镇":
        place = rng.choice(CITY_ROADS)
        number = rng.randint(1, 260)
    elif rng.random() < 0.6:
        place = stem(region) + rng.choice(TOWN_STREETS)
        number = rng.randint(1, 120)
    else:
        place = rng.choice(VILLAGES)
        number = rng.randint(1, 80)
    return f"广东省连州市{region}{place}{number}号"


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def build_objects(rng: random.Random) -> list[dict]:
    kinds = counted(rng, [("individual", N_INDIVIDUALS), ("enterprise", N_ENTERPRISES),
                          ("cooperative", N_COOPERATIVES)])
    statuses = counted(rng, STATUS_COUNTS)
    risks = counted(rng, RISK_COUNTS)
    as_name = {}
    for letter, n in RISK_AS_NAME.items():
        rows = [i for i, r in enumerate(risks) if r == letter]
        for i in rng.sample(rows, n):
            as_name[i] = RISK_NAMES[letter]

    seen_codes: set[str] = set()
    seen_names: set[str] = set()
    rows = []
    for i, kind in enumerate(kinds):
        while True:
            region = weighted(rng, REGIONS)
            if kind == "cooperative":
                industry, products, activity, _ = weighted(
                    rng, [(line, line[3]) for line in COOPERATIVE_LINES])
                entity_type, position2 = COOPERATIVE_TYPE, "3"
                owners = [rng.choice(VILLAGES).removesuffix("村"), rng.choice(TRADE_NAMES)]
                if region != "连州镇":  # not "连州市连州…"
                    owners.append(stem(region))
                owner = rng.choice(owners)
                name = f"连州市{owner}{rng.choice(products)}{activity}专业合作社"
                registered = random_date(rng, dt.date(2008, 1, 1), dt.date(2025, 9, 30))
            else:
                key = kind  # "individual" or "enterprise"
                spec = weighted(rng, [(s, s[key]) for s in INDUSTRIES if s[key]])
                industry = spec["industry"]
                if kind == "individual":
                    entity_type, position2 = INDIVIDUAL_TYPE, "2"
                    trade = rng.choice(PERSONAL_NAMES if rng.random() < 0.5 else TRADE_NAMES)
                    name = f"连州市{region}{trade}{rng.choice(spec['shop'])}"
                else:
                    forms = spec.get("forms", DEFAULT_FORMS)
                    entity_type, position2 = weighted(rng, list(forms.items())), "1"
                    name = enterprise_name(rng, entity_type, spec)
                registered = random_date(rng, dt.date(2005, 1, 1), dt.date(2025, 9, 30))
            if name not in seen_names:
                break
        seen_names.add(name)
        while True:
            code = make(f"9{position2}{DIVISION}{org_part(rng, registered, position2)}")
            if code not in seen_codes:
                break
        seen_codes.add(code)
        rows.append({
            "uscc": code,
            "name": name,
            "entity_type": entity_type,
            "industry": industry,
            "region": region,
            "address": address(rng, region),
            "status": statuses[i],
            "risk_class": as_name.get(i, risks[i]),
            "registered_on": registered.isoformat(),
        })
    return rows


def enterprise_name(rng: random.Random, entity_type: str, spec: dict) -> str:
    trade = rng.choice(TRADE_NAMES)
    if entity_type == "个人独资企业":
        return f"连州市{trade}{rng.choice(spec['shop'])}"
    business = rng.choice(spec["company"])
    if entity_type == "合伙企业":
        if spec["industry"] == "工程造价咨询":
            return f"连州市{trade}{business}事务所（普通合伙）"
        return f"连州市{trade}{business}中心（有限合伙）"
    if entity_type == "股份有限公司":
        return f"{rng.choice(['清远', '连州市'])}{trade}{business}股份有限公司"
    city = weighted(rng, [("连州市", 85), ("清远", 10), ("广东", 5)])
    return f"{city}{trade}{business}有限公司"


def build_inspectors(rng: random.Random) -> list[dict]:
    seen_names: set[str] = set()
    rows = []
    for dept_index, (code, _) in enumerate(DEPARTMENTS, start=1):
        tags = EXPERTISE[code]
        for seq in range(1, INSPECTOR_COUNTS[code] + 1):
            while True:
                given = rng.choice(GIVEN_FIRST) + rng.choice(GIVEN_SECOND)
                if rng.random() < 0.2:
                    given = given[1]
                name = rng.choice(SURNAMES) + given
                if name not in seen_names:
                    break
            seen_names.add(name)
            # The officer's main tag rotates so every tag is held by someone.
            primary = PRIMARY_TAGS.get(code, tags)
            chosen = [primary[(seq - 1) % len(primary)]]
            common = COMMON_TAG.get(code)
            if common and common[0] not in chosen and rng.random() < common[1]:
                chosen.insert(0, common[0])
            for tag in rng.sample(tags, min(len(tags), rng.randint(0, 2))):
                if tag not in chosen:
                    chosen.append(tag)
            if code == "SCJG":
                region = SCJG_REGIONS[seq - 1]
            else:
                region = "全市" if rng.random() < 0.85 else weighted(rng, REGIONS)
            rows.append({
                "cert_no": f"{DIVISION}{dept_index:02d}{seq:03d}",
                "name": name,
                "department": code,
                "cert_expires_on": random_date(
                    rng, dt.date(2027, 1, 1), dt.date(2029, 12, 31)).isoformat(),
                "expertise": ";".join(chosen),
                "region": region,
                "status": "在岗",
            })
    # A few certificates expired in 2025 (two SCJG officers and one of a
    # department with at least three), and a few officers are away; no officer
    # gets both.
    scjg = [i for i, r in enumerate(rows) if r["department"] == "SCJG"]
    others = [i for i, r in enumerate(rows)
              if r["department"] != "SCJG" and INSPECTOR_COUNTS[r["department"]] >= 3]
    expired = rng.sample(scjg, N_EXPIRED - 1) + rng.sample(others, 1)
    for i, date in zip(expired, EXPIRED_ON):
        rows[i]["cert_expires_on"] = date
    rest = [i for i in range(len(rows)) if i not in expired]
    for i, status in zip(rng.sample(rest, len(INSPECTOR_STATUS_SPECIAL)), INSPECTOR_STATUS_SPECIAL):
        rows[i]["status"] = status
    return rows


def build_conflicts(rng: random.Random, inspectors: list[dict], objects: list[dict]) -> list[dict]:
    live = [o for o in objects if o["status"] in ("存续", "在业")]
    rows = []
    pairs: set[tuple[str, str]] = set()
    officers = rng.sample(inspectors, N_CONFLICTS)
    for k, officer in enumerate(officers):
        # Prefer an entity in the officer's own township: that is where conflicts arise.
        near = [o for o in live if o["region"] == officer["region"]] or live
        while True:
            obj = rng.choice(near)
            if (officer["cert_no"], obj["uscc"]) not in pairs:
                break
        pairs.add((officer["cert_no"], obj["uscc"]))
        rows.append({"cert_no": officer["cert_no"], "uscc": obj["uscc"],
                     "reason": CONFLICT_REASONS[k % len(CONFLICT_REASONS)]})
    return rows


def write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_departments(path: Path) -> None:
    lines = ["departments:"]
    for code, name in DEPARTMENTS:
        lines += [f"  - code: {code}", f"    name: {name}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    objects = build_objects(rng)
    inspectors = build_inspectors(rng)
    conflicts = build_conflicts(rng, inspectors, objects)
    assert all(is_valid(o["uscc"]) for o in objects)
    assert {r["department"] for r in inspectors} == {c for c, _ in DEPARTMENTS}
    write_departments(OUT / "departments.yaml")
    write_csv(OUT / "objects.csv", OBJECT_FIELDS, objects)
    write_csv(OUT / "inspectors.csv", INSPECTOR_FIELDS, inspectors)
    write_csv(OUT / "conflicts.csv", CONFLICT_FIELDS, conflicts)
    (OUT / "README.md").write_text(README.format(
        departments=len(DEPARTMENTS), objects=len(objects), inspectors=len(inspectors),
        conflicts=len(conflicts)), encoding="utf-8")
    print(f"wrote {OUT}: {len(DEPARTMENTS)} departments, {len(objects)} objects, "
          f"{len(inspectors)} inspectors, {len(conflicts)} conflicts")


if __name__ == "__main__":
    main()
