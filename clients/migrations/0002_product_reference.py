"""Ships the product reference table: the main products of the six exchanges with
their contract multipliers and published exchange fee rates (per lot in yuan, or a
share of turnover: 0.0001 = 1‱), effective from 2020-01-01. Admins edit them later.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

LOT, TURN = "per_lot", "per_turnover"

# exchange, code, name_zh, name_en, multiplier, basis, open, close, close_today, options
PRODUCTS = [
    ("SHFE", "cu", "铜", "Copper", 5, TURN, "0.00005", "0.00005", "0.0001", True),
    ("SHFE", "al", "铝", "Aluminium", 5, LOT, "3", "3", "0", True),
    ("SHFE", "zn", "锌", "Zinc", 5, LOT, "3", "3", "0", True),
    ("SHFE", "pb", "铅", "Lead", 5, TURN, "0.00004", "0.00004", "0", False),
    ("SHFE", "ni", "镍", "Nickel", 1, LOT, "3", "3", "3", False),
    ("SHFE", "sn", "锡", "Tin", 1, LOT, "3", "3", "3", False),
    ("SHFE", "au", "黄金", "Gold", 1000, LOT, "2", "2", "0", True),
    ("SHFE", "ag", "白银", "Silver", 15, TURN, "0.00005", "0.00005", "0.00005", True),
    ("SHFE", "rb", "螺纹钢", "Rebar", 10, TURN, "0.0001", "0.0001", "0.0003", False),
    ("SHFE", "hc", "热轧卷板", "Hot-rolled coil", 10, TURN, "0.0001", "0.0001", "0.0001", False),
    ("SHFE", "ss", "不锈钢", "Stainless steel", 5, LOT, "2", "2", "0", False),
    ("SHFE", "bu", "石油沥青", "Bitumen", 10, TURN, "0.00005", "0.00005", "0.00005", False),
    ("SHFE", "ru", "天然橡胶", "Natural rubber", 10, LOT, "3", "3", "3", True),
    ("SHFE", "fu", "燃料油", "Fuel oil", 10, TURN, "0.00001", "0.00001", "0.00001", False),
    ("SHFE", "sp", "纸浆", "Bleached softwood kraft pulp", 10, TURN, "0.00005", "0.00005", "0", False),
    ("SHFE", "wr", "线材", "Wire rod", 10, TURN, "0.00004", "0.00004", "0.00004", False),
    ("SHFE", "ao", "氧化铝", "Alumina", 20, TURN, "0.0001", "0.0001", "0.0001", False),
    ("SHFE", "br", "丁二烯橡胶", "Butadiene rubber", 5, TURN, "0.00002", "0.00002", "0.00002", False),
    ("INE", "sc", "原油", "Crude oil", 1000, LOT, "20", "20", "0", True),
    ("INE", "lu", "低硫燃料油", "Low sulphur fuel oil", 10, TURN, "0.00001", "0.00001", "0", False),
    ("INE", "nr", "20号胶", "TSR 20 rubber", 10, TURN, "0.00002", "0.00002", "0", False),
    ("INE", "bc", "国际铜", "International copper", 5, TURN, "0.00001", "0.00001", "0", False),
    ("INE", "ec", "集运指数(欧线)", "Container freight index (Europe)", 50, TURN, "0.00006", "0.00006", "0.00006", False),
    ("DCE", "a", "豆一", "No.1 soybean", 10, LOT, "2", "2", "2", True),
    ("DCE", "b", "豆二", "No.2 soybean", 10, LOT, "1", "1", "1", True),
    ("DCE", "m", "豆粕", "Soybean meal", 10, LOT, "1.5", "1.5", "0", True),
    ("DCE", "y", "豆油", "Soybean oil", 10, LOT, "2.5", "2.5", "0", True),
    ("DCE", "p", "棕榈油", "Palm olein", 10, LOT, "2.5", "2.5", "0", True),
    ("DCE", "c", "玉米", "Corn", 10, LOT, "1.2", "1.2", "0", True),
    ("DCE", "cs", "玉米淀粉", "Corn starch", 10, LOT, "1.5", "1.5", "0", False),
    ("DCE", "jd", "鸡蛋", "Egg", 10, TURN, "0.00015", "0.00015", "0.00015", False),
    ("DCE", "l", "聚乙烯", "LLDPE", 5, LOT, "1", "1", "1", True),
    ("DCE", "v", "聚氯乙烯", "PVC", 5, LOT, "1", "1", "1", True),
    ("DCE", "pp", "聚丙烯", "Polypropylene", 5, LOT, "1", "1", "1", True),
    ("DCE", "eg", "乙二醇", "Ethylene glycol", 10, LOT, "3", "3", "3", True),
    ("DCE", "eb", "苯乙烯", "Styrene", 5, LOT, "3", "3", "3", True),
    ("DCE", "pg", "液化石油气", "LPG", 20, LOT, "6", "6", "6", True),
    ("DCE", "i", "铁矿石", "Iron ore", 100, TURN, "0.0001", "0.0001", "0.0001", True),
    ("DCE", "j", "焦炭", "Coke", 100, TURN, "0.0001", "0.0001", "0.00014", False),
    ("DCE", "jm", "焦煤", "Coking coal", 60, TURN, "0.0001", "0.0001", "0.0003", False),
    ("DCE", "rr", "粳米", "Japonica rice", 10, LOT, "1", "1", "1", False),
    ("DCE", "lh", "生猪", "Live hog", 16, TURN, "0.0001", "0.0001", "0.0002", False),
    ("DCE", "fb", "纤维板", "Fibreboard", 10, TURN, "0.0001", "0.0001", "0.0001", False),
    ("DCE", "bb", "胶合板", "Blockboard", 500, TURN, "0.0001", "0.0001", "0.0001", False),
    ("CZCE", "SR", "白糖", "White sugar", 10, LOT, "3", "3", "0", True),
    ("CZCE", "CF", "棉花", "Cotton", 5, LOT, "4.3", "4.3", "0", True),
    ("CZCE", "TA", "PTA", "PTA", 5, LOT, "3", "3", "0", True),
    ("CZCE", "MA", "甲醇", "Methanol", 10, LOT, "2", "2", "6", True),
    ("CZCE", "FG", "玻璃", "Glass", 20, LOT, "6", "6", "6", False),
    ("CZCE", "RM", "菜籽粕", "Rapeseed meal", 10, LOT, "1.5", "1.5", "0", True),
    ("CZCE", "OI", "菜籽油", "Rapeseed oil", 10, LOT, "2", "2", "2", True),
    ("CZCE", "ZC", "动力煤", "Thermal coal", 100, LOT, "150", "150", "150", False),
    ("CZCE", "SA", "纯碱", "Soda ash", 20, TURN, "0.0002", "0.0002", "0.0002", True),
    ("CZCE", "UR", "尿素", "Urea", 20, LOT, "5", "5", "5", False),
    ("CZCE", "PF", "短纤", "Polyester staple fibre", 5, LOT, "3", "3", "3", False),
    ("CZCE", "PK", "花生", "Peanut kernel", 5, LOT, "4", "4", "4", True),
    ("CZCE", "AP", "苹果", "Apple", 10, LOT, "5", "5", "20", False),
    ("CZCE", "CJ", "红枣", "Red dates", 5, LOT, "3", "3", "3", False),
    ("CZCE", "SF", "硅铁", "Ferrosilicon", 5, LOT, "3", "3", "9", False),
    ("CZCE", "SM", "锰硅", "Silicomanganese", 5, LOT, "3", "3", "6", False),
    ("CZCE", "SH", "烧碱", "Caustic soda", 30, TURN, "0.0001", "0.0001", "0.0001", False),
    ("CZCE", "PX", "对二甲苯", "Paraxylene", 5, TURN, "0.0001", "0.0001", "0.0001", False),
    ("CZCE", "CY", "棉纱", "Cotton yarn", 5, LOT, "4", "4", "0", False),
    ("CZCE", "PR", "瓶片", "PET bottle chips", 15, TURN, "0.00005", "0.00005", "0.00005", False),
    ("CFFEX", "IF", "沪深300股指", "CSI 300 index", 300, TURN, "0.000023", "0.000023", "0.00023", True),
    ("CFFEX", "IH", "上证50股指", "SSE 50 index", 300, TURN, "0.000023", "0.000023", "0.00023", True),
    ("CFFEX", "IC", "中证500股指", "CSI 500 index", 200, TURN, "0.000023", "0.000023", "0.00023", False),
    ("CFFEX", "IM", "中证1000股指", "CSI 1000 index", 200, TURN, "0.000023", "0.000023", "0.00023", True),
    ("CFFEX", "T", "10年期国债", "10-year treasury bond", 10000, LOT, "3", "3", "0", False),
    ("CFFEX", "TF", "5年期国债", "5-year treasury bond", 10000, LOT, "3", "3", "0", False),
    ("CFFEX", "TS", "2年期国债", "2-year treasury bond", 20000, LOT, "3", "3", "0", False),
    ("CFFEX", "TL", "30年期国债", "30-year treasury bond", 10000, LOT, "3", "3", "0", False),
    ("GFEX", "si", "工业硅", "Industrial silicon", 5, TURN, "0.0001", "0.0001", "0.0001", True),
    ("GFEX", "lc", "碳酸锂", "Lithium carbonate", 1, TURN, "0.00008", "0.00008", "0.00008", True),
    ("GFEX", "ps", "多晶硅", "Polysilicon", 3, TURN, "0.00005", "0.00005", "0.00005", True),
]
VALID_FROM = dt.date(2020, 1, 1)


def ship(apps, schema_editor):
    FuturesProduct = apps.get_model("clients", "FuturesProduct")
    ExchangeFeeRate = apps.get_model("clients", "ExchangeFeeRate")
    for (exchange, code, zh, en, multiplier, basis, open_rate, close_rate, today,
         options) in PRODUCTS:
        product, _created = FuturesProduct.objects.update_or_create(
            exchange=exchange, code=code,
            defaults={"name_zh": zh, "name_en": en, "multiplier": Decimal(multiplier),
                      "is_financial": exchange == "CFFEX", "has_options": options},
        )
        ExchangeFeeRate.objects.update_or_create(
            product=product, valid_from=VALID_FROM,
            defaults={"basis": basis, "open_rate": Decimal(open_rate),
                      "close_rate": Decimal(close_rate), "close_today_rate": Decimal(today)},
        )


def unship(apps, schema_editor):
    FuturesProduct = apps.get_model("clients", "FuturesProduct")
    FuturesProduct.objects.filter(
        code__in=[p[1] for p in PRODUCTS], fee_rates__valid_from=VALID_FROM
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(ship, unship)]
