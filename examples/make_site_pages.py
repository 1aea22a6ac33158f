"""Write examples/site/*.txt and examples/site-pages.jsonl: four pages of one invented site.

    python examples/make_site_pages.py

The pages share a menu and a footer whose first line is a grammatical sentence (an appeal that
reads as prose); their articles differ. The README's "Site context" examples read them: as
text files of one folder (``--site-from-folder``) and as JSON Lines records with a URL.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOST = "https://www.harbourlane-gardeners.example"
MENU = "Harbour Lane Gardeners\nHome | Allotments | Events | Advice | Join\n\n"
FOOTER = (
    "\nHarbour Lane Gardeners is run entirely by volunteers, and every membership fee goes "
    "straight back into the shared plots, the seed library and the Saturday workshops.\n"
    "Contact | Privacy | © 2024 Harbour Lane Gardeners\n"
)
ARTICLES = {
    "autumn-garlic": (
        "Planting garlic before the first frost",
        "Garlic needs a long, cold spell to split into cloves, so October is the month to get "
        "it in the ground. Break the bulbs apart the day you plant and keep the largest cloves.\n"
        "Set each clove pointed end up, a hand's width apart, with its tip just below the "
        "surface. A thin mulch of leaves keeps the soil from heaving in hard frosts.\n"
        "By midsummer the leaves turn yellow from the bottom up: lift the bulbs on a dry day "
        "and let them cure in an airy shed for three weeks.\n",
    ),
    "seed-library": (
        "The seed library reopens in the old boathouse",
        "After two years in a members' garage, the seed library has moved into the old "
        "boathouse by the slipway, with shelves built from the club's broken cold frames.\n"
        "Members may take up to six packets a season and are asked to return seed from at "
        "least one plant they grew. Beans, tomatoes and lettuce are the easiest to save.\n"
        "Volunteers sort the returns on the first Sunday of each month; newcomers are welcome "
        "to join them and learn how to dry and label seed.\n",
    ),
    "slugs": (
        "Five ways to keep slugs off young lettuce without pellets",
        "Slugs do most of their damage on damp nights in spring, when seedlings are small and "
        "the ground is soft. A torch-lit patrol after rain removes more than any trap.\n"
        "Copper tape around raised beds, a ring of grit or crushed shells, and beer traps sunk "
        "level with the soil all help, though none works alone for long.\n"
        "Above all, encourage frogs and ground beetles: a small pond and a log pile at the "
        "edge of the plot bring in the predators that keep numbers down all year.\n",
    ),
    "winter-workshops": (
        "Winter workshops: pruning, compost and tool care",
        "The Saturday workshops continue through the winter in the allotment hut, which now "
        "has a wood stove thanks to a grant from the town council.\n"
        "In December we prune apple and pear trees; in January, we build a three-bay compost "
        "system; in February, we sharpen and oil the club's shared tools.\n"
        "Each session starts at ten and lasts about two hours. Bring gloves and a flask; "
        "spare secateurs are available for those who have none.\n",
    ),
}


def pages() -> dict[str, str]:
    """Page name -> page text."""
    return {
        name: f"{MENU}{title}\nPosted by the committee\n\n{body}{FOOTER}"
        for name, (title, body) in ARTICLES.items()
    }


def main() -> None:
    folder = HERE / "site"
    folder.mkdir(exist_ok=True)
    records = []
    for name, text in pages().items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        records.append(json.dumps({"url": f"{HOST}/news/{name}", "text": text}))
    (HERE / "site-pages.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
