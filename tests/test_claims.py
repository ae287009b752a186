"""Claims held against what they are said of (``chatrec.claims``, run by ``explain.check``).

One battery over every rule: a true text passes (no problem at all), and the false one a
model wrote (the blind audit's, bench/explain-audit/) fails with that rule's problem. The
items are tiny copies of real catalog items."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chatrec.catalog import Item
from chatrec.claims import Vocabulary
from chatrec.explain import check
from chatrec.types import Constraints, Evidence, Pull


def _product(title: str, price: float, features: list[str], **kw: object) -> Item:
    return Item(
        id=title[:12],
        title=title,
        text=". ".join(features),
        price=price,
        attributes={"features": features},
        **kw,  # type: ignore[arg-type]
    )


DRONE = _product(
    "DJI Mini 3 Drone Aerial Camera Bundle",
    429.99,
    ["Less Than 249g Ultralight and Foldable", "Gimbal with 4K HDR Camera"],
    categories=("Cameras & Camcorders",),
    rating=4.4,
    review_count=115,
)
ARCADE = _product(
    "My Arcade Atari Gamestation Pro",
    79.99,
    [
        "Gamestation Pro Console with 200+ Officially Licensed Titles",
        "2 Wireless Joysticks with Integrated Paddles",
    ],
    categories=("Video Games & Consoles",),
    rating=3.1,
    review_count=151,
)
SPEAKERS = _product(
    "Klipsch KD-51M Passive 160W Bookshelf Speakers (Pair)",
    149.99,
    ["Room Filling Music or Movie Sound with 2 Speakers", "20-100 Watts of Power, Peak 160W"],
    categories=("Speakers & Voice Assistants",),
)
MONITOR = _product(
    "Acer 27” Class WQHD Curved Gaming Monitor",
    169.99,
    ["2560 x 1440 Curved Widescreen Display", "165 Hz Refresh Rate"],
    categories=("Monitors",),
    rating=4.5,
    review_count=102,
)
ROUTER = _product(
    "TP-Link Whole Home Mesh Wi-Fi 6 System",
    279.99,
    ["3 Indoor Mesh Routers, Cover Up to 5,800 Sq.Ft Indoor Area"],
    categories=("Routers, Wifi Extenders & Modems",),
)
KIT = _product(
    "SimpliSafe Home Security Kit, 10-piece",
    249.99,
    ["Simple to Set Up", "Smart Home Compatible"],
    categories=("Home Security Systems & Cameras",),
    rating=4.8,
    review_count=40,
)
IPAD = _product(
    "iPad 10.9-inch, Wi-Fi (10th Generation)",
    439.99,
    ["A14 Bionic Chip with 6-core CPU and 4-core GPU", "12MP Wide Back Camera"],
    categories=("iPad & Tablets",),
    rating=4.8,
    review_count=1766,
)
GIFT = _product(
    "Roblox $50 Gift Card Digital Download",
    44.99,
    ["Digital Download", "Exclusive Virtual Item Included"],
    categories=("Video Games & Consoles",),
    rating=4.7,
    review_count=1263,
)
DOORBELL = _product(
    "Feit Smart Video Doorbell With Wi-Fi Camera",
    59.99,
    ["Motion Detection with IR Sensor", "1080p HD Video"],
    categories=("Home Security Systems & Cameras",),
    rating=3.7,
    review_count=548,
)
# Doorbells and cameras: the catalog names items "camera", so "with a camera" is a claim.
OTHERS = [
    _product(f"Ring Stick Up Camera {n}", 99.0, ["1080p HD Video"], categories=("Cameras",))
    for n in ("Battery", "Plug-In", "Solar")
]
VOCABULARY = Vocabulary.of([DRONE, ARCADE, SPEAKERS, MONITOR, ROUTER, KIT, IPAD, GIFT, *OTHERS])


SENSORS = _product(
    "Ring Alarm Contact Sensor 4-pack",
    65.99,
    ["Ring Alarm Base Station Required, Sold Separately", "Hear Chirps Indoors"],
    categories=("Home Security Systems & Cameras",),
    rating=4.7,
    review_count=1138,
)


def _film(title: str, year: int, genres: tuple[str, ...], rating: float, n: int) -> Item:
    return Item(
        id=title[:8], title=title, year=year, categories=genres, rating=rating, review_count=n
    )


JUST_CAUSE = _film("Just Cause (1995)", 1995, ("Mystery", "Thriller"), 3.14, 28)
DEVIL = Evidence(JUST_CAUSE.id, {}, (Pull("877", "Devil in a Blue Dress (1995)", 29, 6, 3.0, 0.1),))
PULP = _film("Pulp Fiction (1994)", 1994, ("Crime", "Drama"), 4.06, 394)
ROMANCE = Evidence(
    PULP.id,
    {},
    (
        Pull("1", "True Romance (1993)", 63, 62, 4.6, 0.2),
        Pull("2", "From Dusk Till Dawn (1996)", 41, 38, 4.7, 0.1),
    ),
)
SUSPECTS = _film("The Usual Suspects (1995)", 1995, ("Crime", "Thriller"), 4.39, 267)
RAINMAKER = _film("The Rainmaker (1997)", 1997, ("Drama",), 3.6, 145)
TREK = _film("Star Trek: First Contact (1996)", 1996, ("Action", "Adventure", "Sci-Fi"), 3.66, 365)
SOUNDBAR = _product(
    "Bose Soundbar 550",
    449.99,
    ["Dolby Atmos Soundbar", "Wireless Bluetooth Connectivity"],
    categories=("Soundbars & Home Theater",),
)


@dataclass(frozen=True)
class Case:
    rule: str
    item: Item
    good: str
    bad: str
    problem: str  # a part of the problem the bad text gets
    evidence: Evidence | None = None
    request: str = ""
    constraints: Constraints | None = None
    history: tuple[str, ...] = ()


CASES = [
    Case(
        "the fans' average is the evidence's, not the film's own",
        JUST_CAUSE,
        "Just Cause (1995) is a Mystery Thriller, and 6 of the 29 people who loved Devil in a "
        "Blue Dress rated it too, 3.0★ on average.",
        "Just Cause (1995) is a Mystery Thriller, and 6 of the 29 people who loved Devil in a "
        "Blue Dress rated it too, 3.14 out of 5.",
        "gives 3.14 as the fans' average; the evidence says 3",
        DEVIL,
    ),
    Case(
        "the fans are counted as the evidence counts them",
        JUST_CAUSE,
        "Of the 29 people who loved Devil in a Blue Dress, 6 rated this Mystery too.",
        "Of the 29 people who loved Devil in a Blue Dress, 9 rated this Mystery too.",
        "says 9 of 29 people; the evidence says 6 of 29",
        DEVIL,
    ),
    Case(
        "the fans who rated it are the evidence's count of them, not all the fans",
        JUST_CAUSE,
        "A Mystery Thriller from 1995, and 6 people who loved Devil in a Blue Dress rated it too.",
        "A Mystery Thriller from 1995, and 29 people who loved Devil in a Blue Dress rated it too.",
        "says 29 fans rated it; the evidence says 6 of 29",
        DEVIL,
    ),
    Case(
        "a count of ratings is not a price",
        IPAD,
        "The iPad (10th Generation) is $439.99, rated 4.8 out of 5 from 1,766 ratings.",
        "The iPad (10th Generation) is $439.99, and it costs 1,766 ratings, rated 4.8 out of 5.",
        "calls a count of ratings a price",
    ),
    Case(
        "an item is not denied what its title says it has",
        DOORBELL,
        "At $59.99, the Feit Smart Video Doorbell has Wi-Fi and an IR sensor.",
        "At $59.99, the Feit Smart Video Doorbell has an IR sensor and no Wi-Fi.",
        "denies the item what it is: 'no wi-fi'",
    ),
    Case(
        "a rating is out of 5",
        DOORBELL,
        "At $59.99, the Feit Smart Video Doorbell has an IR sensor, rated 3.7 out of 5.",
        "At $59.99, the Feit Smart Video Doorbell has an IR sensor, rated at 59.99.",
        "gives 59.99 as a rating; ratings are out of 5",
    ),
    Case(
        "no rank among items the explainer never saw, no prediction of taste",
        DOORBELL,
        "At $59.99, the Feit Smart Video Doorbell is well within your budget.",
        "At $59.99, this is the cheapest doorbell you can get, and one you'd love.",
        "judges beyond the facts: the cheapest, you'd love",
        request="a cheap doorbell camera under $100",
    ),
    Case(
        "a genre said as asked for is one the person asked for",
        SUSPECTS,
        "From 1995, Crime is the genre you want, and it is a Thriller too.",
        "From 1995, Crime and Thriller is a genre you want.",
        "says the person asked for Thriller, which they did not",
        request="more tarantino-ish stuff, crime, 90s (Crime, 1990–1999)",
    ),
    Case(
        "a text does not say the same thing twice",
        ARCADE,
        "The My Arcade Atari Gamestation Pro has 2 wireless joysticks with integrated paddles.",
        "The My Arcade Atari Gamestation Pro has 2 wireless joysticks and 2 wireless joysticks "
        "with integrated paddles.",
        "repeats itself",
    ),
    Case(
        "a year is said as a year, a count not as an average",
        JUST_CAUSE,
        "Just Cause (1995) is a Mystery from the years you asked for, rated 3.14 out of 5.",
        "Just Cause (1995) is a Mystery from the 1995 years you asked for, a 28 rating average.",
        "says a number oddly",
        request="a mystery from the 90s (Mystery, 1990–1999)",
    ),
    Case(
        "an age is the person's own",
        JUST_CAUSE,
        "A Mystery Thriller for a 12-year-old's parents, from 1995, rated 3.14 out of 5.",
        "A Mystery Thriller for a 28-year-old, from 1995, rated 3.14 out of 5.",
        "gives the person an age they did not",
        request="something for my 12-year-old and me",
    ),
    Case(
        "the people behind a pick are said with what they did",
        JUST_CAUSE,
        "Just Cause (1995) is a Mystery, and 6 of the 29 people who loved Devil in a Blue Dress "
        "rated it too.",
        "Just Cause (1995) is a Mystery, and 6 of the 29 people who loved Devil in a Blue Dress.",
        "without saying what they did",
        DEVIL,
    ),
    Case(
        "nothing says what the person rated",
        JUST_CAUSE,
        "A Mystery Thriller from 1995, rated 3.14 out of 5 from 28 ratings.",
        "A Mystery Thriller from 1995 that fits the 28 ratings you gave.",
        "speaks of ratings the person gave",
        DEVIL,
    ),
    Case(
        "a rating's count is the item's number of ratings",
        JUST_CAUSE,
        "A Mystery and Thriller from 1995, rated 3.14 out of 5 from 28 ratings.",
        "A Mystery and Thriller from 1995, rated 3.14 out of 5 by 6 people.",
        "says 6 people; it has 28 ratings",
        DEVIL,
    ),
    Case(
        "the item's rating is its own",
        JUST_CAUSE,
        "A Mystery and Thriller from 1995, rated 3.14 out of 5 from 28 ratings.",
        "A Mystery and Thriller from 1995, rated 3.0 out of 5 from 28 ratings.",
        "gives 3.0 as its rating; it is rated 3.14",
        DEVIL,
    ),
    Case(
        "a liked film is not spoken of as the pick",
        PULP,
        "Pulp Fiction (1994) is a Crime Drama, and 62 of the 63 people who loved True Romance "
        "rated it too, 4.6★ on average.",
        "From Dusk Till Dawn (1996) is a Crime Drama, rated 4.6 out of 5 by 62 of the 63 "
        "people who loved True Romance (1993).",
        "speaks of From Dusk Till Dawn (1996) as if it were the pick",
        ROMANCE,
    ),
    Case(
        "the year is the film's own, not a liked film's",
        PULP,
        "A 1994 Crime Drama, and 62 of the 63 people who loved True Romance rated it too, "
        "4.6★ on average.",
        "A 1993 Crime Drama, and 62 of the 63 people who loved True Romance rated it too, "
        "4.6★ on average.",
        "gives 1993 as its year; it came out in 1994",
        ROMANCE,
    ),
    Case(
        "a price is never called a rating",
        ARCADE,
        "At $79.99 it is rated 3.1 out of 5 from 151 ratings, with 2 wireless joysticks.",
        "At $79.99 it is rated $79.99 by its buyers, with 2 wireless joysticks.",
        "calls a price a rating",
    ),
    Case(
        "a budget said is the one the person stated",
        MONITOR,
        "This Acer curved gaming monitor is $169.99, within your $400 budget, rated 4.5 out of 5.",
        "This Acer curved gaming monitor fits your $169.99 budget, rated 4.5 out of 5.",
        "gives $169.99 as the budget; the person stated $400",
        request="a second monitor under $400 (Monitors, under $400)",
        constraints=Constraints(price_max=400),
    ),
    Case(
        "no budget is said when the person stated none",
        MONITOR,
        "This Acer curved gaming monitor is $169.99 and rated 4.5 out of 5.",
        "This Acer curved gaming monitor is $169.99, within your budget, rated 4.5 out of 5.",
        "states a budget the person did not",
        request="a curved monitor for games",
    ),
    Case(
        "a count of units is the listing's ('2 games' of 200+ titles)",
        ARCADE,
        "At $79.99, with 2 wireless joysticks and 200+ licensed titles, rated 3.1 out of 5.",
        "At $79.99, with 2 wireless joysticks and 2 games, rated 3.1 out of 5.",
        "says 2 games, which the listing does not",
    ),
    Case(
        "a number of a model's name is no count ('Mini 3' is one drone)",
        DRONE,
        "The DJI Mini 3 drone bundle has a gimbal with a 4K HDR camera, at $429.99.",
        "A 3-drone aerial camera bundle, $429.99, rated 4.4 out of 5 from 115 ratings.",
        "says 3-drone, which the listing does not",
    ),
    Case(
        "a spec is said of the number the listing says it of",
        SPEAKERS,
        "A pair of Klipsch 160W bookshelf speakers with 20-100 watts of power, at $149.99.",
        "The Klipsch KD-51M is a 160W bookshelf speaker with 2 speakers, $149.99, and a 20-100W "
        "peak.",
        "says peak of 100w; the listing says it of 160",
    ),
    Case(
        "a model code is the listing's",
        MONITOR,
        "The Acer 27-inch WQHD curved gaming monitor refreshes at 165 Hz, for $169.99.",
        "The Acer Q400 WQHD curved gaming monitor refreshes at 165 Hz, for $169.99.",
        "names a model the listing does not: Q400",
    ),
    Case(
        "a part the item is said to have is in its listing",
        KIT,
        "The SimpliSafe kit is simple to set up and smart home compatible, at $249.99.",
        "The SimpliSafe kit is a smart home security system with a camera, at $249.99.",
        "says it has 'camera', which its listing does not",
    ),
    Case(
        "the person's wish is not said as the item's",
        SUSPECTS,
        "A 1995 Thriller with crime, rated 4.39 out of 5 from 267 ratings.",
        "A 1995 Thriller with crime and paranoia, rated 4.39 out of 5 from 267 ratings.",
        "gives the wish 'paranoia' as a fact of the item",
        request="sci-fi thriller from the 90s, bonus points for paranoia",
    ),
    Case(
        "a rating is not cut before its decimals",
        IPAD,
        "The iPad is a 10.9-inch tablet with a 6-core CPU and 4-core GPU, rated 4.8 out of 5.",
        "The iPad is a 10.9-inch tablet with a 6-core CPU and 4-core GPU, rated 4.",
        "ends on a bare number",
    ),
    Case(
        "an average does not lose its star",
        JUST_CAUSE,
        "A Mystery from 1995, and 6 of the 29 people who loved Devil in a Blue Dress rated "
        "it too, 3.0★.",
        "A Mystery from 1995, and 6 of the 29 people who loved Devil in a Blue Dress rated "
        "it too, 3.",
        "ends on a bare number",
        DEVIL,
    ),
    Case(
        "a text does not stop inside a phrase of the listing",
        ROUTER,
        "At $279.99, this TP-Link mesh system covers up to 5,800 sq.ft indoors.",
        "At $279.99, this TP-Link mesh system covers up to 5,800 sq.",
        "stops inside a phrase of the listing: 'sq'",
    ),
    Case(
        "a sentence does not end on a function word",
        IPAD,
        "The iPad has a 10.9-inch display and a 6-core CPU, at $439.99.",
        "The iPad has a 10.9-inch display and a 6-core CPU, at $439.99 with a.",
        "ends on 'a': cut short",
    ),
    Case(
        "an amount is said once",
        GIFT,
        "A Roblox gift card for $44.99, rated 4.7 out of 5 from 1,263 ratings.",
        "Roblox $44.99 is a gift card, and $44.99, rated 4.7 out of 5 from 1,263 ratings.",
        "says $44.99 twice",
    ),
    Case(
        "no verdict the facts do not give",
        RAINMAKER,
        "The Rainmaker (1997) is a Drama, rated 3.6 out of 5 from 145 ratings.",
        "The Rainmaker (1997) is a Drama, rated 3.6 out of 5, and a night to watch.",
        "gives a verdict the facts do not: 'a night to watch'",
    ),
    Case(
        "a text has 8 to 35 words",
        RAINMAKER,
        "The Rainmaker (1997) is a Drama, rated 3.6 out of 5.",
        "The Rainmaker (1997), a Drama.",
        "5 words (8 to 35)",
    ),
    Case(
        "a text has at most 35 words",
        RAINMAKER,
        "The Rainmaker (1997) is a Drama, rated 3.6 out of 5 from 145 ratings.",
        "The Rainmaker (1997) is a Drama from 1997, rated 3.6 out of 5 from 145 ratings, and "
        "it came out in the years you asked about, which makes it a Drama that fits "
        "everything you said you wanted today.",
        "words (8 to 35)",
    ),
    # The third blind audit's (bench/explain-audit-3/): remarks about the person and a part
    # "sold separately" moved onto the item.
    Case(
        "the person is spoken of only as they spoke of themselves",
        _film("Better Off Dead (1985)", 1985, ("Comedy",), 3.57, 79),
        "Better Off Dead is a 1985 Comedy, rated 3.57 out of 5 from 79 ratings.",
        "Better Off Dead is a 1985 Comedy rated 3.57 out of 5, one to watch after your finals.",
        "speaks of the person's finals",
    ),
    Case(
        "a family member the request names may be named",
        SENSORS,
        "For your daughter's room, the Ring Alarm Contact Sensor 4-pack costs $65.99.",
        "The Ring Alarm Contact Sensor 4-pack costs $65.99, for the person who wanted sensors.",
        "speaks of the person: 'the person who'",
        request="door sensors for my daughter's room",
    ),
    Case(
        "what is sold separately is what the listing says is",
        SENSORS,
        "The Ring Alarm Contact Sensor 4-pack needs the Alarm Base Station, sold separately, "
        "at $65.99.",
        "The Ring Alarm Contact Sensor 4-pack is $65.99, and the sensors are sold separately.",
        "says what is sold separately wrongly",
    ),
    Case(
        "a contrast may not deny the item its own brand",
        SOUNDBAR,
        "The Bose Soundbar 550 has Dolby Atmos, not a basic TV speaker, at $449.99.",
        "The Bose Soundbar 550 is a soundbar with Dolby Atmos, not a Bose, at $449.99.",
        "denies the item what it is",
    ),
    Case(
        "a contrast may not deny the item its own genre",
        TREK,
        "Star Trek: First Contact (1996) is Sci-Fi and Adventure, not just sci-fi, from 1996.",
        "Star Trek: First Contact (1996) is Action and Adventure from 1996, not sci-fi.",
        "denies the item what it is",
    ),
    # The fourth blind audit's (bench/explain-audit-4/): a use nothing states, and the item
    # said to be one of its parts.
    Case(
        "what it is for is what the listing says",
        SPEAKERS,
        "These Klipsch bookshelf speakers are for music or movies, at $149.99.",
        "These Klipsch bookshelf speakers are for cooking, at $149.99.",
        "says what it is for, which nothing states: 'for cooking'",
        request="a pair of bookshelf speakers",
    ),
    Case(
        "a purpose is not read into a request that gives none",
        SPEAKERS,
        "These Klipsch bookshelf speakers cost $149.99, inside the $150 you set.",
        "These Klipsch bookshelf speakers are for art students, at $149.99.",
        "says what it is for, which nothing states: 'for art students'",
        request="bookshelf speakers under $150",
    ),
    Case(
        "a count after 'out of 5' says what it counts",
        TREK,
        "Sci-Fi and Adventure from 1996, rated 3.66 out of 5 from 365 ratings.",
        "Sci-Fi and Adventure from 1996, rated 3.66 out of 5 of 219.",
        "ends on a bare number",
    ),
    Case(
        "a liked title is named with how it relates to the pick",
        TREK,
        "Like Star Wars, this is Sci-Fi and Adventure, from 1996 and rated 3.66 out of 5 overall.",
        "Sci-Fi with a Star Wars, from 1996, rated 3.66 out of 5 from 365 ratings.",
        "names Star Wars (1977) without saying how it relates",
        request="space films",
        history=("Star Wars (1977)",),
    ),
    Case(
        "a contrast may not deny a product what its title calls it",
        _product(
            "Apple Watch Series 9 (GPS) 41mm Smartwatch",
            389.99,
            ["S9 chip"],
            categories=("Smart Watches",),
        ),
        "The Apple Watch Series 9 has an S9 chip, not the watch you named, at $389.99.",
        "The Apple Watch Series 9 is a fitness tracker with an S9 chip, not a watch, $389.99.",
        "denies the item what it is: 'not a watch'",
    ),
    Case(
        "a computer is not its processor",
        _product(
            "Dell Inspiron Desktop - 13th Gen Intel Core i5-13400",
            599.99,
            ["13th Gen Intel Core i5-13400 processor"],
            categories=("Desktop Computers",),
        ),
        "The Dell Inspiron is a desktop with a 13th Gen Core i5-13400 processor, at $599.99.",
        "The Dell Inspiron Desktop is a 13th Gen Core i5-13400, at $599.99.",
        "says the item is its processor",
    ),
    Case(
        "an item is not one of its parts",
        _product(
            "Apple Mac mini Desktop, M2 chip, 8GB Memory, 256GB SSD",
            579.99,
            ["Apple M2 chip with 8-core CPU"],
            categories=("Desktop Computers",),
        ),
        "The Mac mini is a desktop with an M2 chip and a 256GB SSD, at $579.99.",
        "The Mac mini is a 256GB SSD with 8GB memory, at $579.99.",
        "says the item is a ssd, a part it has",
    ),
    Case(
        "what is said as asked for is in the request",
        MONITOR,
        "At $169.99, this Acer is the curved gaming monitor you asked for, rated 4.5 out of 5.",
        "At $169.99, this Acer is the WQHD gaming monitor you asked for, rated 4.5 out of 5.",
        "says the person asked for what they did not: 'the WQHD gaming monitor you asked for'",
        request="a curved gaming monitor under $200 (Monitors, under $200)",
        constraints=Constraints(price_max=200),
    ),
    Case(
        "what a pick meets is the person's own wish",
        MONITOR,
        "The Acer 27” curved monitor meets your budget at $169.99, with a 165 Hz refresh rate.",
        "The Acer 27” curved monitor meets your 165 Hz refresh rate, at $169.99.",
        "says the person asked for what they did not: 'meets your 165 Hz refresh rate'",
        request="a curved gaming monitor under $200 (Monitors, under $200)",
        constraints=Constraints(price_max=200),
    ),
    Case(
        "a genre is not where a film is from",
        TREK,
        "A 1996 Sci-Fi adventure, rated 3.66 out of 5 from 365 ratings.",
        "A 1996 adventure from Sci-Fi, rated 3.66 out of 5 from 365 ratings.",
        "says a genre oddly: 'from sci fi'",
    ),
    Case(
        "a price has its $",
        MONITOR,
        "The Acer 27” curved gaming monitor is $169.99, with a 165 Hz refresh rate.",
        "The Acer 27” curved gaming monitor is a 169.99 listing, with a 165 Hz refresh rate.",
        "says a price without its $: '169.99'",
    ),
    Case(
        "a dollar sign is written once",
        MONITOR,
        "The Acer 27” curved gaming monitor is $169.99, rated 4.5 out of 5 from 102 ratings.",
        "The Acer 27” curved gaming monitor is $169.99, within your $$169.99 range.",
        "badly written numbers: $$169.99",
    ),
    Case(
        "raters are not owners or buyers",
        IPAD,
        "The iPad (10th Generation) is $439.99, and 1,766 people rate it 4.8 out of 5.",
        "The iPad (10th Generation) is $439.99, and 1,766 owners rate it 4.8 out of 5.",
        "calls the raters owners or buyers: '1,766 owners'",
    ),
    Case(
        "two counts are not run together",
        PULP,
        "A 1994 Crime Drama, and 62 of the 63 people who loved True Romance rated it too.",
        "A 1994 Crime Drama, and 62 of 41 of the 63 people who loved True Romance rated it too.",
        "says a number oddly: '62 of 41 of the 6'",
        ROMANCE,
    ),
]


def _check(case: Case, text: str) -> list[str]:
    return check(
        text,
        case.item,
        None,
        request=case.request,
        history=list(case.history),
        categories=("Crime", "Drama", "Mystery", "Thriller", "Sci-Fi", "Comedy"),
        evidence=case.evidence,
        constraints=case.constraints,
        vocabulary=VOCABULARY,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_a_true_claim_passes_and_the_false_one_fails(case: Case) -> None:
    assert _check(case, case.good) == [], case.good
    problems = _check(case, case.bad)
    assert any(case.problem in p for p in problems), problems


def test_the_vocabulary_is_the_catalogs_own_words_for_its_items() -> None:
    # "camera" names items in 4 titles; a film's title is a name, not a description.
    assert "camera" in VOCABULARY.words and "paranoia" not in VOCABULARY.words
    assert Vocabulary.of([JUST_CAUSE, PULP, SUSPECTS]).words == frozenset()
    # A TV is said to have a screen although its listing says "display": the catalog says
    # "screen" of sizes in inches, and its listing has one. A camera it has not.
    tvs = [_product(f'Acme {n}" LED Screen TV', 299.0, [f'{n}" LED Screen']) for n in (43, 50)]
    tvs.append(_product('Zeta 55" LED Screen TV', 399.0, ['55" LED Screen']))
    zeta = _product('Zeta 65" 4K TV', 499.0, ['65" Crystal Display'])
    words = Vocabulary.of([*tvs, zeta, *OTHERS])
    assert "screen" in words.measured["inch"]
    said = "The Zeta 65-inch 4K TV has a big LED screen, for $499."
    assert check(said, zeta, None, vocabulary=words) == []
    said = "The Zeta 65-inch 4K TV has a big LED camera, for $499."
    assert check(said, zeta, None, vocabulary=words) == [
        "says it has 'camera', which its listing does not"
    ]


def test_a_purpose_the_person_gave_may_be_said_back_in_other_words() -> None:
    for request, text in (
        ("speakers for my dorm room", "These Klipsch speakers are for a small room, $149.99."),
        ("speakers for when I cook", "These Klipsch speakers are for the kitchen, $149.99."),
        ("speakers my kids can use", "These Klipsch speakers are for little ones, $149.99."),
    ):
        assert _check(Case("", SPEAKERS, "", "", "", request=request), text) == [], text


def test_a_wish_the_item_meets_may_be_said_of_it() -> None:
    # The person asked for sci-fi, and the film is Sci-Fi: no wish said as a fact.
    star = _film("Star Kid (1997)", 1997, ("Adventure", "Children's", "Sci-Fi"), 3.0, 3)
    said = "Star Kid (1997) is a children's adventure with sci-fi, rated 3 out of 5 from 3 ratings."
    assert (
        check(said, star, None, request="a sci-fi adventure for kids", vocabulary=VOCABULARY) == []
    )
