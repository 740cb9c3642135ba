"""Demo customers: realistic Chinese and English persons and organisations, seeded."""

from __future__ import annotations

import random
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ("伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 华 玉兰 萍 "
         "鹏 辉 玲 建华 俊 婷 宇 浩 欣怡 子涵 雨桐 梓萱 一诺 思远 博文 晨曦 佳怡 嘉豪 天宇 "
         "子轩 浩然 雅琪 诗涵 文博 志强 海燕 红梅 国庆 建国 丹 凯 斌 亮 晓东 晓燕 春梅 三").split()
EN_FIRST = ("James Mary John Linda Robert Emma David Olivia Michael Sophia William Grace "
            "Daniel Chloe Thomas Lucy Peter Hannah Mark Anna").split()
EN_LAST = ("Smith Johnson Brown Taylor Wilson Clark Lewis Walker Hall Young King Wright Green "
           "Baker Adams Nelson Carter Mitchell Turner Parker").split()
COMPANY_PREFIX = ("华信 恒通 金桥 中科 鸿达 瑞丰 天成 东方 盛世 新锐 博远 卓越 万达 嘉禾 汇丰 "
                  "立信 宏图 远航 星辰 凯旋 海纳 润泽 德勤 锦程 华夏 长城 银河 泰和 永盛 鼎新").split()
COMPANY_TRADE = [("科技", "信息技术"), ("贸易", "批发零售"), ("制造", "制造业"),
                 ("物流", "交通物流"), ("医药", "医药健康"), ("食品", "食品饮料"),
                 ("建设", "建筑工程"), ("咨询", "专业服务"), ("电子", "电子设备"),
                 ("教育", "教育培训"), ("家电", "家用电器"), ("汽车销售服务", "汽车")]
EN_COMPANIES = ["Pacific Trading Ltd", "Blue River Software", "Northwind Logistics",
                "Greenfield Foods", "Summit Medical Devices", "Harbor Consulting",
                "Silverline Electronics", "Oakwood Education"]
# province → [(city, [districts])]
PLACES: dict[str, list[tuple[str, list[str]]]] = {
    "上海市": [("上海市", ["浦东新区", "徐汇区", "静安区", "闵行区", "杨浦区"])],
    "江苏省": [("南京市", ["玄武区", "鼓楼区", "江宁区"]), ("苏州市", ["姑苏区", "工业园区", "吴中区"]),
            ("无锡市", ["梁溪区", "滨湖区"])],
    "浙江省": [("杭州市", ["西湖区", "滨江区", "余杭区"]), ("宁波市", ["海曙区", "鄞州区"]),
            ("温州市", ["鹿城区", "瓯海区"])],
    "安徽省": [("合肥市", ["蜀山区", "包河区"])],
    "山东省": [("济南市", ["历下区", "市中区"]), ("青岛市", ["市南区", "崂山区"])],
    "北京市": [("北京市", ["朝阳区", "海淀区", "东城区", "西城区", "丰台区"])],
    "天津市": [("天津市", ["和平区", "南开区", "滨海新区"])],
    "河北省": [("石家庄市", ["长安区", "桥西区"]), ("保定市", ["竞秀区", "莲池区"])],
    "山西省": [("太原市", ["小店区", "迎泽区"])],
    "内蒙古自治区": [("呼和浩特市", ["新城区", "赛罕区"])],
    "广东省": [("广州市", ["天河区", "越秀区", "海珠区"]), ("深圳市", ["南山区", "福田区", "宝安区"])],
    "四川省": [("成都市", ["武侯区", "锦江区", "高新区"])],
    "湖北省": [("武汉市", ["江汉区", "洪山区", "武昌区"])],
    "福建省": [("福州市", ["鼓楼区", "仓山区"]), ("厦门市", ["思明区", "湖里区"])],
}
EAST = ["上海市", "江苏省", "浙江省", "安徽省", "山东省", "福建省"]
NORTH = ["北京市", "天津市", "河北省", "山西省", "内蒙古自治区"]
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "新华路", "长江路", "黄河路",
           "科技园路", "文化路"]
MOBILE_PREFIXES = ["138", "139", "137", "136", "135", "150", "151", "152", "158", "159",
                   "186", "187", "188", "189", "133", "153", "180", "181", "177", "199"]
TAGS = ["老客户", "VIP", "华东大区", "展会获客", "价格敏感", "高潜力", "线上", "线下",
        "key account", "newsletter"]
JOBS = ["工程师", "教师", "医生", "会计", "销售经理", "设计师", "公务员", "律师", "经理",
        "自由职业", "学生", "护士"]
INTERESTS = ["跑步群", "读书会", "亲子社群", "摄影爱好者", "车友会", "户外徒步", "茶友会"]


def _pinyin_handle(name: str) -> str:
    from guanxi.core.text import pinyin_keys

    return pinyin_keys(name)[0] or "user"


def _mobile(rng: random.Random) -> str:
    digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    style = rng.random()
    if style < 0.4:
        return digits
    if style < 0.7:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style < 0.9:
        return f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return f"0086{digits}"


def customer_records(n: int, owners_east: list[int], owners_north: list[int],
                     seed: int = 42) -> list[dict[str, Any]]:
    """``n`` customer records for ``customer_bulk_create``, owners spread over both teams."""
    rng = random.Random(seed)
    # Stated intent (about one customer in twelve) from a stream of its own, so the other
    # fields do not depend on it.
    intent_rng = random.Random(seed + 1)
    records = []
    for i in range(n):
        east = i % 2 == 0
        province = rng.choice(EAST if east else NORTH)
        city, districts = rng.choice(PLACES[province])
        owner = rng.choice(owners_east if east else owners_north)
        address = {"kind": "work", "province": province, "city": city,
                   "district": rng.choice(districts),
                   "street": f"{rng.choice(STREETS)}{rng.randrange(1, 999)}号",
                   "postcode": f"{rng.randrange(100000, 850000)}"}
        is_org = rng.random() < 0.3
        data: dict[str, Any] = {"owner": owner,
                                "source_type": "direct" if rng.random() < 0.7 else "indirect",
                                "source_channel": rng.choice(["conversation", "event", "website",
                                                              "app", "wechat", "referral",
                                                              "partner", "report"])}
        rec: dict[str, Any] = {"addresses": [address], "tags": rng.sample(TAGS, rng.randrange(0, 3))}
        if is_org:
            if rng.random() < 0.1:
                name = rng.choice(EN_COMPANIES) + f" ({city})"
                industry = "Trade"
            else:
                trade, industry = rng.choice(COMPANY_TRADE)
                name = f"{city.rstrip('市')}{rng.choice(COMPANY_PREFIX)}{trade}有限公司"
            data.update(kind="organisation", name=name, industry=industry,
                        relation_kind=rng.choice(["consumer", "consumer", "intermediary",
                                                  "public"]),
                        consumer_type="industrial",
                        company_size=rng.choice(["micro", "small", "medium", "large"]),
                        relationship_type=rng.choice(["buyer_seller", "preferred_supply",
                                                      "partnership", "strategic_alliance"]))
            domain = f"{_pinyin_handle(name)[:12]}.com.cn"
            rec["emails"] = [f"info@{domain}"]
            rec["phones"] = [_mobile(rng)]
            rec["contacts"] = [
                {"name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                 "role": rng.choice(["采购经理", "总经理", "财务", "IT 主管", "行政"]),
                 "phone": _mobile(rng), "email": f"contact{j}@{domain}",
                 "is_primary": j == 0}
                for j in range(rng.randrange(1, 4))
            ]
        else:
            if rng.random() < 0.12:
                name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
            else:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            handle = _pinyin_handle(name)
            data.update(kind="person", name=name, relation_kind="consumer",
                        consumer_type="individual",
                        gender=rng.choice(["female", "male"]),
                        birth_date=f"{rng.randrange(1960, 2004)}-{rng.randrange(1, 13):02d}-"
                                   f"{rng.randrange(1, 29):02d}",
                        occupation=rng.choice(JOBS),
                        income_band=rng.choice(["low", "middle", "upper", "high"]),
                        education=rng.choice(["secondary", "college", "bachelor", "master"]),
                        marital_status=rng.choice(["single", "married"]),
                        purchase_motive=rng.choice(["practical", "novelty", "convenience",
                                                    "status"]),
                        personality=rng.choice(["extrovert", "introvert", "cautious",
                                                "impulsive"]),
                        interests=rng.choice(INTERESTS))
            rec["phones"] = [_mobile(rng)]
            rec["emails"] = [f"{handle}{rng.randrange(1, 999)}@"
                             f"{rng.choice(['qq.com', '163.com', 'example.cn', 'sina.com'])}"]
            if rng.random() < 0.6:
                rec["wechat"] = f"wx_{handle[:10]}{rng.randrange(100, 9999)}"
            if rng.random() < 0.3:
                rec["qq"] = str(rng.randrange(10**7, 10**10))
        if intent_rng.random() < 0.08:
            data["purchase_intent"] = intent_rng.choice(["more", "more", "steady", "less",
                                                         "leaving"])
            figures = {"more": [20, 30, 100], "less": [-20, -40]}.get(data["purchase_intent"])
            if figures and intent_rng.random() < 0.4:
                data["intent_change_pct"] = intent_rng.choice(figures)
        rec["data"] = data
        records.append(rec)
    return records
