"""Value parsers for import cells: each takes the stripped raw text and returns the
value, or raises ValueError with the reason in plain (translatable) words.

Empty cells and `--` never reach a parser: the pipeline turns them into the
column's default first.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from clients.models.activity import Direction, Exchange, HedgeFlag, Offset

# --- text ---------------------------------------------------------------------


def text(value: str) -> str:
    return value.strip()


def text_id(value: str) -> str:
    """Account, trade and order ids: surrounding spaces go, leading zeros stay."""
    return value.strip()


# --- dates and times ------------------------------------------------------------

_DATE_RES = (
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
)
_date_cache: dict[str, dt.date] = {}


def date(value: str) -> dt.date:
    """YYYYMMDD, YYYY-MM-DD or YYYY/MM/DD."""
    cached = _date_cache.get(value)
    if cached is not None:
        return cached
    for pattern in _DATE_RES:
        match = pattern.match(value)
        if match:
            try:
                parsed = dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                raise ValueError(_("not a calendar date")) from None
            if len(_date_cache) < 20000:
                _date_cache[value] = parsed
            return parsed
    raise ValueError(_("not a date (expected YYYYMMDD, YYYY-MM-DD or YYYY/MM/DD)"))


_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")


def time(value: str) -> dt.time:
    match = _TIME_RE.match(value)
    if not match:
        raise ValueError(_("not a time (expected HH:MM:SS)"))
    try:
        return dt.time(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(_("not a time of day")) from None


# --- numbers ----------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)?(\.\d*)?$")


def decimal(value: str) -> Decimal:
    """A decimal number; thousands separators allowed (1,234,567.89)."""
    if "," in value:
        if not _NUMBER_RE.match(value):
            raise ValueError(_("not a number"))
        value = value.replace(",", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(_("not a number")) from None
    if not number.is_finite():
        raise ValueError(_("not a number"))
    return number


def decimal_non_negative(value: str) -> Decimal:
    number = decimal(value)
    if number < 0:
        raise ValueError(_("must not be negative"))
    return number


def decimal_positive(value: str) -> Decimal:
    number = decimal(value)
    if number <= 0:
        raise ValueError(_("must be greater than zero"))
    return number


def int_positive(value: str) -> int:
    """A whole number > 0 (lots). `2.0` is accepted, `2.5` is not."""
    try:
        number = int(value)
    except ValueError:
        number_d = decimal(value)
        if number_d != number_d.to_integral_value():
            raise ValueError(_("must be a whole number")) from None
        number = int(number_d)
    if number <= 0:
        raise ValueError(_("must be a whole number greater than zero"))
    return number


def percent(value: str) -> Decimal:
    """`22.5%` → 0.225; `0.225` → 0.225."""
    if value.endswith("%"):
        return decimal(value[:-1].strip()) / 100
    return decimal(value)


# --- vocabularies ---------------------------------------------------------------------


def _vocabulary(mapping: dict[str, str], what) -> Callable[[str], str]:
    folded = {key.casefold(): code for key, code in mapping.items()}

    def parse(value: str) -> str:
        code = mapping.get(value)
        if code is None:
            code = folded.get(value.replace(" ", "").replace("\u3000", "").casefold())
        if code is None:
            raise ValueError(what)
        return code

    return parse


EXCHANGES = {
    **{code: code for code in Exchange.values},
    "上期所": "SHFE", "上海期货交易所": "SHFE",
    "能源中心": "INE", "上期能源": "INE", "上海国际能源交易中心": "INE",
    "大商所": "DCE", "大连商品交易所": "DCE",
    "郑商所": "CZCE", "郑州商品交易所": "CZCE",
    "中金所": "CFFEX", "中国金融期货交易所": "CFFEX",
    "广期所": "GFEX", "广州期货交易所": "GFEX",
}
exchange = _vocabulary(EXCHANGES, _("unknown exchange (use SHFE, INE, DCE, CZCE, CFFEX, GFEX or 上期所…)"))

DIRECTIONS = {
    "0": Direction.BUY, "1": Direction.SELL, "B": Direction.BUY, "S": Direction.SELL,
    "买": Direction.BUY, "卖": Direction.SELL, "buy": Direction.BUY, "sell": Direction.SELL,
}
direction = _vocabulary(DIRECTIONS, _("unknown direction (use 0/1, B/S or 买/卖)"))

OFFSETS = {
    "0": Offset.OPEN, "1": Offset.CLOSE, "2": Offset.FORCED_CLOSE, "3": Offset.CLOSE_TODAY,
    "4": Offset.CLOSE_YESTERDAY, "5": Offset.FORCED_REDUCTION, "6": Offset.LOCAL_FORCED_CLOSE,
    "O": Offset.OPEN, "C": Offset.CLOSE, "CT": Offset.CLOSE_TODAY, "CY": Offset.CLOSE_YESTERDAY,
    "F": Offset.FORCED_CLOSE,
    "开": Offset.OPEN, "开仓": Offset.OPEN, "平": Offset.CLOSE, "平仓": Offset.CLOSE,
    "强平": Offset.FORCED_CLOSE, "平今": Offset.CLOSE_TODAY, "平昨": Offset.CLOSE_YESTERDAY,
    "强减": Offset.FORCED_REDUCTION, "本地强平": Offset.LOCAL_FORCED_CLOSE,
    **{code: code for code in Offset.values},
}
offset = _vocabulary(OFFSETS, _("unknown open/close flag (use 0–6, O/C/CT/CY/F or 开/平/平今/平昨/强平)"))

HEDGE_FLAGS = {
    "1": HedgeFlag.SPECULATION, "2": HedgeFlag.ARBITRAGE, "3": HedgeFlag.HEDGE,
    "5": HedgeFlag.MARKET_MAKER,
    "S": HedgeFlag.SPECULATION, "A": HedgeFlag.ARBITRAGE, "H": HedgeFlag.HEDGE,
    "M": HedgeFlag.MARKET_MAKER,
    "投机": HedgeFlag.SPECULATION, "一般": HedgeFlag.SPECULATION, "投": HedgeFlag.SPECULATION,
    "投机（一般）": HedgeFlag.SPECULATION,
    "套利": HedgeFlag.ARBITRAGE, "套": HedgeFlag.ARBITRAGE,
    "套保": HedgeFlag.HEDGE, "保": HedgeFlag.HEDGE, "套期保值": HedgeFlag.HEDGE,
    "做市": HedgeFlag.MARKET_MAKER, "做市商": HedgeFlag.MARKET_MAKER,
    **{code: code for code in HedgeFlag.values},
}
hedge_flag = _vocabulary(
    HEDGE_FLAGS, _("unknown speculation/hedge flag (use 1/2/3/5, S/A/H or 投机/套利/套保)")
)

CLIENT_TYPES = {
    "person": "person", "个人": "person", "自然人": "person", "0": "person",
    "institution": "institution", "机构": "institution", "法人": "institution", "1": "institution",
    "product": "product", "产品": "product", "特殊法人": "product", "3": "product",
}
client_type = _vocabulary(CLIENT_TYPES, _("unknown client type (use 个人/机构/产品 or person/institution/product)"))

INVESTOR_CATEGORIES = {
    "ordinary": "ordinary", "普通": "ordinary", "普通投资者": "ordinary",
    "professional": "professional", "专业": "professional", "专业投资者": "professional",
}
investor_category = _vocabulary(
    INVESTOR_CATEGORIES, _("unknown investor category (use 普通/专业 or ordinary/professional)")
)

ID_TYPES = {
    "resident_id": "resident_id", "身份证": "resident_id", "居民身份证": "resident_id",
    "passport": "passport", "护照": "passport",
    "hk_macao": "hk_macao", "港澳通行证": "hk_macao", "港澳居民来往内地通行证": "hk_macao",
    "taiwan": "taiwan", "台胞证": "taiwan", "台湾居民来往大陆通行证": "taiwan",
    "business_license": "business_license", "统一社会信用代码": "business_license",
    "营业执照": "business_license",
    "product_filing": "product_filing", "产品备案编码": "product_filing",
    "other": "other", "其他": "other",
}
id_type = _vocabulary(ID_TYPES, _("unknown ID type (use 身份证, 护照, 统一社会信用代码, 产品备案编码 …)"))


# --- instruments --------------------------------------------------------------------

# Options on CFFEX indices have their own letters; the product is the index future.
INDEX_OPTIONS = {"IO": "IF", "HO": "IH", "MO": "IM"}
_FUTURE_RE = re.compile(r"^([A-Za-z]{1,2})(\d{3,4})$")
_OPTION_RE = re.compile(r"^([A-Za-z]{1,2})(\d{3,4})-?([CP])-?(\d+(?:\.\d+)?)$")


def split_instrument(instrument: str) -> tuple[str, bool]:
    """(product code, is_option): rb2505 → (rb, False), i2607-P-750 → (i, True),
    MA601C2500 → (MA, True), IO2512-C-4000 → (IF, True)."""
    match = _FUTURE_RE.match(instrument)
    if match:
        return match.group(1), False
    match = _OPTION_RE.match(instrument)
    if match:
        code = match.group(1)
        return INDEX_OPTIONS.get(code, code), True
    raise ValueError(_("not a futures or option contract code (like rb2505, TA505, i2607-P-750)"))


def instrument(value: str) -> str:
    value = value.strip()
    split_instrument(value)
    return value
