"""Writes the two made-up non-film test catalogues: `books.csv` (200 books) and `board_games.jsonl` (100 games).

    python tests/data/make_catalogues.py        # rewrites both files next to this script, the same every time

Every title, name and sentence is invented for these tests from the phrase lists below; any
likeness to a real book or game is chance. The fields are unlike the film demo's on purpose:
books have `sku,name,author,description,category,year,pages,price` (no runtime, no cast; the
categories say "crime fiction", never "mystery"), games have `id,name,designer,summary,
mechanics (a list),min_players,max_players,play_minutes,age,price`. Some names carry accents.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

# category -> (title starts, title ends, who, where, what happens, page range)
BOOK_KINDS = {
    "crime fiction": (
        ["Murder at", "Death in", "The Body in", "Poison at", "Trouble at", "A Corpse in", "Secrets of"],
        [
            "the Bakery",
            "Willow Lane",
            "the Vicarage",
            "Harbour Street",
            "the Book Fair",
            "Thistledown Inn",
            "Little Brayford",
            "the Old Mill",
            "Saint-Aubin",
        ],
        [
            "a retired schoolteacher",
            "a village baker",
            "a widowed florist",
            "an amateur sleuth with a nosy cat",
            "a young constable on her first case",
            "a bookshop owner",
            "a former chef turned detective",
        ],
        [
            "a sleepy seaside village",
            "a small market town",
            "a snowed-in country hotel",
            "a quiet cathedral town",
            "a Cornish fishing village",
            "a lakeside resort out of season",
        ],
        [
            "finds the mayor dead behind the tea room and must untangle who lied about the night of the storm",
            "notices that the winning jam at the summer fête was laced with something deadly",
            "follows a trail of anonymous letters that every neighbour pretends not to have received",
            "investigates a locked-room death while the whole town gossips over the garden fence",
            "unravels a decades-old disappearance when bones turn up under the church hall",
        ],
        (210, 380),
    ),
    "science fiction": (
        ["The Last", "Beyond", "Signals from", "The Drift of", "Children of", "Echoes of", "The Orbit of"],
        ["Kepler Station", "the Dim Star", "Hollow Moon", "the Ninth Colony", "Vesta", "the Quiet Fleet", "Tycho Deep"],
        [
            "a salvage pilot",
            "an engineer who hears the ship's reactor talk",
            "a linguist sent to first contact",
            "a clone who remembers two lives",
            "the last navigator of a generation ship",
        ],
        [
            "a mining outpost on a frozen moon",
            "a generation ship three centuries out",
            "a drowned future Lisbon",
            "a space station orbiting a dying sun",
            "a terraformed Mars that is failing",
        ],
        [
            "uncovers that the colony's founders lied about why they left Earth",
            "must decide whether to wake the sleeping crew as the ship veers off course",
            "decodes a message that predicts events that have not happened yet",
            "races a rival corporation to claim an alien artifact that rewrites physics",
        ],
        (280, 520),
    ),
    "fantasy": (
        ["The Crown of", "The Witch of", "Song of", "The Thief of", "Ashes of", "The Dragon of", "The Oath of"],
        [
            "Emberfell",
            "the Glass Marshes",
            "Château Brume",
            "the Silver Wood",
            "Karrowmere",
            "the Salt Kings",
            "Nightvale Keep",
        ],
        [
            "an apprentice cartographer",
            "a disgraced knight",
            "a river witch",
            "a thief with a borrowed shadow",
            "the youngest daughter of a dragon-keeper",
        ],
        [
            "a kingdom where winter has lasted a hundred years",
            "a city built on the back of a sleeping giant",
            "an empire ruled by hereditary mages",
            "a forest that rearranges itself every night",
        ],
        [
            "steals a map that shows places that should not exist",
            "must bargain with an old god to save her brother",
            "joins an unlikely band to return a cursed crown",
            "discovers that her magic feeds on memories",
        ],
        (320, 640),
    ),
    "romance": (
        ["Summer at", "Letters to", "A Season in", "Falling for", "The Little Café in", "Kisses in", "Coming Home to"],
        ["Rosewater Bay", "Montmartre", "the Highlands", "Lemon Grove", "Puerto Claro", "the Orchard", "Maple Hollow"],
        [
            "a burnt-out lawyer",
            "a pastry chef",
            "a wedding photographer",
            "a widowed vineyard owner",
            "a travelling violinist",
        ],
        [
            "a village on a sunlit Greek island",
            "a snowy Alpine village",
            "a crumbling Tuscan farmhouse",
            "a busy Paris café",
        ],
        [
            "falls for the grumpy neighbour she swore to avoid",
            "agrees to a fake engagement that becomes all too real",
            "reunites with a first love while restoring her grandmother's bakery",
            "trades homes for the summer and finds more than a change of scenery",
        ],
        (240, 400),
    ),
    "historical fiction": (
        [
            "The Weaver of",
            "The Lighthouse at",
            "A Daughter of",
            "The Silk Road to",
            "The Forger of",
            "Winter in",
            "The Clockmaker of",
        ],
        ["Lyon", "Old Kraków", "the Tudor Court", "Samarkand", "Venice", "Sevilla", "the Hanseatic Sea"],
        ["a silk weaver", "a lighthouse keeper's daughter", "a Venetian glassblower", "a codebreaker", "a field nurse"],
        [
            "Renaissance Florence",
            "Victorian London during the great fog",
            "occupied Paris in 1942",
            "a Baltic trading port in 1560",
            "Edo-period Japan",
        ],
        [
            "hides a fugitive while the city burns around her",
            "forges papers that could save hundreds of lives",
            "must choose between her guild and her family when the plague arrives",
            "keeps a secret diary that exposes a royal conspiracy",
        ],
        (330, 560),
    ),
    "biography": (
        ["The Life of", "A Portrait of", "Becoming", "The Many Lives of", "In Search of"],
        [
            "Ada Quillfeather",
            "Josef Brandt",
            "Marguerite Olanier",
            "Captain Eliza Thorne",
            "Dr. Tomás Herrera",
            "Inès Vautrin",
            "Rupert Ashdown",
        ],
        [
            "a self-taught astronomer",
            "a jazz pianist",
            "a pioneering surgeon",
            "a polar explorer",
            "an inventor of looms",
        ],
        ["nineteenth-century Manchester", "post-war Vienna", "Harlem in the twenties", "colonial Lagos"],
        [
            "rose from poverty to change her field forever",
            "risked everything on a single expedition",
            "fought the establishment for recognition that came too late",
        ],
        (300, 520),
    ),
    "cookery": (
        ["Simply", "The Everyday", "Slow Sunday", "Fire and", "One Pan", "The Little Book of", "Feasts from"],
        ["Vegetables", "Bread", "Soups", "Spice", "Dumplings", "Tray Bakes", "the Mediterranean"],
        ["a home cook", "a market-stall chef", "a baker from Lyon", "a grandmother from Oaxaca"],
        ["a busy family kitchen", "a small city flat", "a farmhouse stove"],
        [
            "offers eighty easy weeknight recipes with few ingredients",
            "teaches sourdough, flatbreads and buns step by step with photos",
            "collects warming soups and stews for cold evenings",
            "shares vegetarian dishes bright with herbs, citrus and spice",
        ],
        (160, 320),
    ),
    "travel writing": (
        ["Walking", "Slow Train to", "A Year in", "Across", "Notes from", "The Road to"],
        ["the Andes", "Patagonia", "the Silk Road", "Lapland", "the Danube", "Rajasthan", "the Outer Hebrides"],
        ["a restless journalist", "a retired geography teacher", "a cyclist with a notebook", "a photographer"],
        [
            "remote mountain villages",
            "long-distance night trains",
            "desert caravan routes",
            "windswept northern islands",
        ],
        [
            "travels three thousand miles on foot and meets the people who stay",
            "rides slow trains across a continent and eats at every station",
            "spends twelve months learning a language and its recipes",
        ],
        (220, 380),
    ),
    "nature": (
        ["The Secret Life of", "A Field Guide to", "The Hidden World of", "Wild", "The Year of the"],
        ["Bees", "Mushrooms", "Owls", "Hedgerows", "the Tide Pool", "Moths", "Old Oaks"],
        ["an ecologist", "a beekeeper", "a marine biologist", "a gardener"],
        ["a patch of English woodland", "a rocky northern coast", "an urban allotment", "an alpine meadow"],
        [
            "watches one place through four seasons and finds it teeming",
            "explains how fungi connect whole forests",
            "follows a single hive from spring swarm to winter cluster",
        ],
        (180, 340),
    ),
    "children's": (
        ["Pip and the", "The Dragon Who", "Milo's Big", "Where Is", "The Brave Little", "Goodnight,", "Luna and the"],
        ["Moon Balloon", "Lost His Roar", "Birthday", "Teddy?", "Tugboat", "Sleepy Farm", "Paper Boat"],
        ["a shy hedgehog", "a small dragon", "a curious girl", "a brave tugboat", "a puppy"],
        ["a busy harbour", "a farm at bedtime", "a garden full of surprises", "the sky above the town"],
        [
            "learns that being small can be a big advantage",
            "makes a new friend on a rainy day",
            "goes looking for a lost toy and finds a whole adventure",
        ],
        (24, 120),
    ),
    "poetry": (
        ["Salt and", "Small Hours", "Letters to the", "What the River", "Notes on", "The Weight of"],
        ["Lemons", "of the City", "Sea", "Said", "Leaving", "Snow", "Light"],
        ["a ferry worker", "a night-shift nurse", "a young poet from the coast", "an old gardener"],
        ["the coast", "the city at night", "a mountain village", "the kitchen table"],
        [
            "gathers short poems about grief, weather and small joys",
            "writes sonnets of love and leaving",
            "sings the daily life of a fishing town in free verse",
        ],
        (64, 140),
    ),
    "popular science": (
        ["The Hidden Maths of", "Why We", "A Brief History of", "The Science of", "Inside the"],
        ["Everything", "Sleep", "Cooking", "Time", "the Brain", "Weather", "Memory"],
        ["a physicist", "a neuroscientist", "a science journalist", "a meteorologist"],
        ["laboratories around the world", "everyday kitchens", "storm chasers' vans"],
        [
            "explains in plain words how the brain stores and loses memories",
            "shows the physics hidden in a cup of coffee",
            "tells the story of how we learned to forecast storms",
        ],
        (240, 420),
    ),
}
AUTHORS = [
    "Margaret Ellory",
    "Inès Moreau",
    "Tomás Herrera",
    "Zoë Kowalczyk",
    "Björn Lindqvist",
    "Hattie Quarles",
    "Oluwaseun Adeyemi",
    "Priya Raman",
    "Declan Moorcroft",
    "Élodie Brûlé",
    "Kenji Watanabe",
    "Rosalind Pyke",
    "Matteo Ricci-Vale",
    "Agnieszka Nowicka",
    "Samuel Achebe-Grant",
    "Freya Halvorsen",
    "Lucía Ortega",
    "Edmund Faircloth",
    "Nadia Haddad",
    "Callum Strachan",
    "Søren Dahl",
    "Beatrix Wren",
    "Yusuf Demir",
    "Clementine Ashby",
]


def books(count: int = 200, seed: int = 14) -> list[dict]:
    rng = random.Random(seed)
    kinds = list(BOOK_KINDS)
    rows, names = [], set()
    while len(rows) < count:
        category = kinds[len(rows) % len(kinds)]
        starts, ends, who, where, plots, (low_pages, high_pages) = BOOK_KINDS[category]
        name = f"{rng.choice(starts)} {rng.choice(ends)}"
        if name in names:
            continue
        names.add(name)
        description = f"In {rng.choice(where)}, {rng.choice(who)} {rng.choice(plots)}."
        if category == "crime fiction" and rng.random() < 0.6:
            description += rng.choice(
                [
                    " A cozy whodunit full of tea, gossip and red herrings.",
                    " A gentle mystery with a clever twist.",
                    " Clues hide in plain sight.",
                ]
            )
        rows.append(
            {
                "sku": f"BK-{1000 + len(rows)}",
                "name": name,
                "author": rng.choice(AUTHORS),
                "description": description,
                "category": category,
                "year": rng.randint(1962, 2025),
                "pages": rng.randint(low_pages, high_pages),
                "price": f"{rng.uniform(5, 30):.2f}",
            }
        )
    return rows


GAME_THEMES = [
    ("Lantern Harbour", "rebuild a storm-wrecked fishing port before the autumn gales"),
    ("Emberwatch", "keep a ring of watchtowers lit as a forest fire spreads"),
    ("Tidepool", "grow the richest rock pool as the tide comes and goes"),
    ("Caravan of Salt", "lead camel trains between desert oases and trade spice and salt"),
    ("Clockwork Bazaar", "run a stall of tinkered gadgets in a steam-powered market"),
    ("Frostbound", "survive an Arctic expedition as supplies dwindle and the ice cracks"),
    ("Beehive Kingdom", "tend a colony of bees, gather nectar and raise new queens"),
    ("Château Minuit", "explore a haunted manor and lay its restless ghosts to rest"),
    ("Rails of Verdance", "build railway lines across a green valley and deliver goods"),
    ("Sky Orchard", "cultivate floating orchards and trade fruit between sky islands"),
    ("Pirates of the Coral Sea", "sail, raid merchant ships and bury treasure on hidden islands"),
    ("Moonbase Echo", "keep a failing lunar base running until the rescue ship arrives"),
    ("Jungle Relics", "race through overgrown ruins to recover lost idols"),
    ("Guildhall", "hire artisans and grow the most prestigious guild in a medieval town"),
    ("Starlight Express Post", "deliver letters across a galaxy of tiny planets"),
    ("Kraken Rising", "defend a harbour city from a sea monster that grows stronger every round"),
    ("Alpine Huts", "build mountain huts and guide hikers along alpine trails"),
    ("Mushroom Folk", "forage the forest floor and cook mushroom feasts"),
    ("Quantum Heist", "plan a heist in a laboratory where the rooms shift in time"),
    ("The Word Tavern", "shout out clues and guess secret words in a noisy tavern"),
]
GAME_STYLES = {
    "cooperative": (
        ["cooperative", "hand management"],
        "Players work together as one team against the game and win or lose together.",
        (1, 4),
        (45, 90),
    ),
    "cooperative deduction": (
        ["cooperative", "deduction", "limited communication"],
        "The whole table cooperates, sharing only hints, to solve the puzzle before time runs out.",
        (2, 5),
        (20, 45),
    ),
    "deck building": (
        ["deck building", "engine building"],
        "Each player starts with a small deck and buys stronger cards to improve it.",
        (2, 4),
        (45, 75),
    ),
    "worker placement": (
        ["worker placement", "resource management"],
        "Players place their workers on actions, blocking each other, and turn resources into points.",
        (1, 4),
        (60, 120),
    ),
    "area control": (
        ["area control", "dice rolling"],
        "Rivals fight over regions of the board; the player who controls most wins.",
        (2, 5),
        (60, 120),
    ),
    "social deduction": (
        ["social deduction", "bluffing", "hidden roles"],
        "Someone at the table is a traitor; talk, bluff and vote to find them.",
        (5, 10),
        (15, 30),
    ),
    "tile placement": (
        ["tile placement", "pattern building"],
        "Players draw and place tiles to build a shared map and score patterns.",
        (2, 4),
        (30, 45),
    ),
    "roll and write": (
        ["roll and write", "dice rolling"],
        "Everyone rolls dice and fills in their own sheet at the same time.",
        (1, 6),
        (20, 30),
    ),
    "party": (
        ["party", "word game", "team play"],
        "Two teams guess words from quick clues; loud, fast and easy to teach.",
        (4, 12),
        (15, 30),
    ),
    "trick taking": (
        ["trick taking", "hand management"],
        "A card game of tricks where players bid on how many they will win.",
        (3, 5),
        (20, 40),
    ),
}
DESIGNERS = [
    "Ines Arnaud",
    "Hartmut Keller",
    "Ravi Sundaram",
    "Maud Lefèvre",
    "Obi Nwosu",
    "Grete Sørensen",
    "Paulo Andrade",
    "Yuki Tanabe",
    "Colm Brennan",
    "Renée Castellane",
    "Dario Conti",
    "Hana Novák",
]


def board_games(count: int = 100, seed: int = 14) -> list[dict]:
    rng = random.Random(seed)
    styles = list(GAME_STYLES)
    rows = []
    for number in range(count):
        theme, goal = GAME_THEMES[number % len(GAME_THEMES)]
        style = styles[(number * 7 + number // len(GAME_THEMES)) % len(styles)]
        mechanics, how, (fewest, most), (shortest, longest) = GAME_STYLES[style]
        edition = number // len(GAME_THEMES)
        if edition == 4:  # the "Duel" editions are for two
            fewest = most = 2
        name = theme if edition == 0 else f"{theme}: {['', 'Deep Waters', 'The Card Game', 'Big Box', 'Duel'][edition]}"
        rows.append(
            {
                "id": f"g{number + 1:03d}",
                "name": name,
                "designer": rng.choice(DESIGNERS),
                "summary": f"Players {goal}. {how}",
                "mechanics": mechanics
                + ([rng.choice(["set collection", "variable setup", "campaign"])] if rng.random() < 0.4 else []),
                "min_players": fewest,
                "max_players": most,
                "play_minutes": rng.randrange(shortest, longest + 1, 5),
                "age": rng.choice([8, 10, 12, 14]),
                "price": round(rng.uniform(15, 75), 2),
            }
        )
    return rows


def main() -> None:
    with open(HERE / "books.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(
            out, fieldnames=["sku", "name", "author", "description", "category", "year", "pages", "price"]
        )
        writer.writeheader()
        writer.writerows(books())
    with open(HERE / "board_games.jsonl", "w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in board_games())


if __name__ == "__main__":
    main()
