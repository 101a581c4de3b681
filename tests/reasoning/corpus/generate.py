"""Writes paraphrases.yaml: instructions in the phrasing of other benchmarks' published templates and of
everyday requests, each with the logical form it must mean (``logical_form.canonical``) written here by
hand from the template, or the refusal or question it must get.

Run ``python tests/reasoning/corpus/generate.py`` after changing a template; the test reads only the YAML.
Sources: Ravens/CLIPort ("put the {pick} in the {place}", "pack the {obj} in the brown box", "stack the
blocks"), VIMA ("put the {dragged} into the {base}"), CALVIN ("lift the red block", "push the block to the
left"), LoHoRavens ("put the blocks in the bowls with matching colors"), household requests ("can I have
the red mug?").
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import yaml

CANON = {"cube": "block", "sphere": "ball", "dish": "plate", "basin": "bowl", "can": "cylinder", "cup": "mug"}
CONTAINERS = {"bowl", "tray", "mug"}
OBJECTS = [
    ("red", "block"),
    ("blue", "cube"),
    ("green", "ball"),
    ("yellow", "block"),
    ("pink", "cylinder"),
    ("purple", "sphere"),
    ("orange", "block"),
    ("white", "can"),
]
PLACES = [
    ("blue", "bowl"),
    ("green", "plate"),
    ("brown", "tray"),
    (None, "bowl"),
    ("white", "dish"),
    ("gray", "basin"),
    (None, "plate"),
    ("red", "tray"),
]
ENTRIES: list[dict] = []


def the(color: str | None, noun: str) -> str:
    return f"the {color + ' ' if color else ''}{noun}"


def canon(color: str | None, noun: str, quantity: str = "the", plural: bool = False) -> str:
    noun = CANON.get(noun, noun)
    return f"{quantity} {color + ' ' if color else ''}{noun}{'s' if plural else ''}"


def add(family: str, source: str, text: str, expect: str | None = None, refuse: str | None = None) -> None:
    entry = {"family": family, "source": source, "text": text}
    entry.update({"expect": expect} if expect is not None else {"refuse": refuse})
    ENTRIES.append(entry)


def pick_place() -> None:
    """Ravens/CLIPort and VIMA templates, and the verbs people use for the same thing."""
    rng = random.Random(0)
    pairs = list(itertools.product(OBJECTS, PLACES))
    rng.shuffle(pairs)
    templates = [
        ("cliport", "put {o} in {p}", "inside"),
        ("cliport", "Put {o} in {p}.", "inside"),
        ("vima", "Put {o} into {p}.", "inside"),
        ("cliport", "pack {o} into {p}", "inside"),
        ("people", "place {o} on {p}", "on"),
        ("people", "Place {o} on top of {p}.", "on"),
        ("people", "set {o} onto {p}", "on"),
        ("people", "drop {o} into {p}", "inside"),
        ("people", "Pick up {o} and put it in {p}.", "inside"),
        ("people", "pick {o} up and place it on {p}", "on"),
        ("people", "Take {o} and put it in {p}.", "inside"),
        ("people", "Grab {o} and set it on {p}.", "on"),
        ("people", "grasp {o} and drop it into {p}", "inside"),
        ("calvin", "lift {o} and place it in {p}", "inside"),
        ("people", "Pick up {o}, then put it on {p}.", "on"),
        ("people", "take {o} and place it inside {p}", "inside"),
        ("people", "put {o} to {p}", "to"),
        ("people", "Move {o} to {p}.", "to"),
        ("people", "move {o} into {p}", "inside"),
        ("people", "Take {o} to {p}.", "to"),
        ("people", "bring {o} over to {p}", "to"),
        ("people", "put {o} next to {p}", "near"),
        ("people", "place {o} beside {p}", "near"),
        ("people", "put {o} to the left of {p}", "left_of"),
        ("people", "put {o} on the right of {p}", "right_of"),
        ("people", "move {o} in front of {p}", "in_front_of"),
        ("people", "put {o} behind {p}", "behind"),
        ("people", "insert {o} into {p}", "inside"),
        ("people", "transfer {o} onto {p}", "on"),
        ("people", "lay {o} on {p}", "on"),
        ("people", "get {o} into {p}", "inside"),
    ]
    for i, (source, template, relation) in enumerate(templates):
        for (oc, on), (pc, pn) in (pairs[(i * 4 + k) % len(pairs)] for k in range(4)):
            rel = relation
            if relation == "to":
                rel = "inside" if CANON.get(pn, pn) in CONTAINERS else "on"
            text = template.format(o=the(oc, on), p=the(pc, pn))
            add("pick_place", source, text, f"put {canon(oc, on)} {rel.replace('_', ' ')} {canon(pc, pn)}")


def lifting() -> None:
    """CALVIN's "lift the {colour} block" and how people say pick it up and hold it."""
    for source, text, expect in [
        ("calvin", "lift the red block", "lift the red block"),
        ("calvin", "Lift the red block.", "lift the red block"),
        ("calvin", "pick up the blue block", "lift the blue block"),
        ("people", "pick up the blue cube", "lift the blue block"),
        ("people", "Pick the green ball up.", "lift the green ball"),
        ("people", "hold the green ball", "lift the green ball"),
        ("people", "Grab the yellow cylinder, please.", "lift the yellow cylinder"),
        ("people", "could you grasp the white mug", "lift the white mug"),
        ("people", "raise the pink block", "lift the pink block"),
        ("people", "lift up the orange cube", "lift the orange block"),
        (
            "people",
            "Put the red block in the bowl, then pick up the blue block.",
            "put the red block inside the bowl; then lift the blue block",
        ),
    ]:
        add("lifting", source, text, expect)


def shifting() -> None:
    """CALVIN's "push the {colour} block to the left" with how far, and how people say move it by a distance."""
    for source, text, expect in [
        ("calvin", "push the red block left by 10 cm", "move the red block left by 10 cm"),
        ("calvin", "push the red block 10 cm to the left", "move the red block left by 10 cm"),
        ("calvin", "Slide the blue cube 5 cm to the right.", "move the blue block right by 5 cm"),
        ("people", "nudge the green ball forward by 3 cm", "move the green ball forward by 3 cm"),
        ("people", "move the yellow block back 4 cm", "move the yellow block backward by 4 cm"),
        ("people", "Move the pink cylinder left by 2 inches.", "move the pink cylinder left by 5.08 cm"),
        ("people", "shift the red block 15 mm to the right", "move the red block right by 1.5 cm"),
        ("people", "please push the orange block away from you by 6 cm", "move the orange block forward by 6 cm"),
        ("people", "move the white can 10 centimetres towards the robot", "move the white cylinder backward by 10 cm"),
        ("people", "Could you slide the purple sphere to the left by 7 cm?", "move the purple ball left by 7 cm"),
    ]:
        add("shifting", source, text, expect)


def handover() -> None:
    templates = [
        "give me {o}",
        "Hand me {o}.",
        "pass me {o}, please",
        "Bring me {o}.",
        "bring {o} to me",
        "Can I have {o}?",
        "I want {o}.",
        "I'd like {o}, please.",
        "Could you get me {o}?",
        "Take {o} and give it to me.",
        "hand {o} over",
        "Could I have {o} please?",
        "I need {o}.",
        "Would you please hand me {o}?",
        "fetch me {o}",
        "give {o} to me",
        "Pick up {o} and hand it to me.",
        "may I have {o}",
        "get {o} to me",
        "pass {o} over to me",
    ]
    for i, template in enumerate(templates):
        for oc, on in (OBJECTS[i % 8], OBJECTS[(i + 3) % 8]):
            add("handover", "people", template.format(o=the(oc, on)), f"hand over {canon(oc, on)}")


def politeness_and_case() -> None:
    core = "put the red block in the blue bowl"
    expect = "put the red block inside the blue bowl"
    for text in [
        "Could you please put the red block in the blue bowl?",
        "PUT THE RED BLOCK IN THE BLUE BOWL!",
        "put the red block in the blue bowl, thanks!",
        "Hey robot, put the red block in the blue bowl please.",
        "I want you to put the red block in the blue bowl.",
        "I'd like you to put the red block in the blue bowl.",
        "Would you put the red block in the blue bowl for me?",
        "Now put the red block in the blue bowl.",
        "Go ahead and put the red block in the blue bowl.",
        "Please, put the red block in the blue bowl. Thank you!",
        "Can you put the red block in the blue bowl?",
        "Kindly put the red block in the blue bowl.",
        "put the Red Block in the Blue Bowl",
        "  put   the red block in the blue bowl  ",
        "Put the red block in the blue bowl; thanks a lot.",
        "I need you to put the red block in the blue bowl.",
        "Okay robot, could you put the red block in the blue bowl?",
        "Just put the red block in the blue bowl.",
        "Will you please put the red block in the blue bowl",
        "put the red block in the blue bowl please, thank you",
        "I want the red block in the blue bowl.",
        "I'd like the red block in the blue bowl.",
        "Put the red block in the blue bowl for me, please.",
        core,
    ]:
        add("politeness", "people", text, expect)


def referring() -> None:
    """Comparatives, spatial phrasing, negation with contractions."""
    cases = [
        ("put the bigger ball in the bowl", "put the largest ball inside the bowl"),
        ("Put the larger block on the plate.", "put the largest block on the plate"),
        ("put the smaller cube in the tray", "put the smallest block inside the tray"),
        ("give me the bigger one", "hand over the largest object"),
        ("Put the block on the left in the bowl.", "put the leftmost block inside the bowl"),
        ("put the block on the right on the plate", "put the rightmost block on the plate"),
        ("Put the left block in the bowl.", "put the leftmost block inside the bowl"),
        ("put the red block in the right bowl", "put the red block inside the rightmost bowl"),
        ("Put the red block in the bowl that is on the left.", "put the red block inside the leftmost bowl"),
        ("put the block at the back in the tray", "put the backmost block inside the tray"),
        ("put the block in the front on the plate", "put the frontmost block on the plate"),
        ("Put the block closest to you on the plate.", "put the nearest block on the plate"),
        ("put the ball closest to the robot in the bowl", "put the nearest ball inside the bowl"),
        ("put the block that's closest to you in the bowl", "put the nearest block inside the bowl"),
        ("put the block farthest from you in the tray", "put the farthest block inside the tray"),
        ("Put the block nearest to the plate in the bowl.", "put the nearest block to (the plate) inside the bowl"),
        ("put the block closer to the plate in the bowl", "put the nearest block to (the plate) inside the bowl"),
        ("Put the block farther from the plate in the bowl.", "put the farthest block to (the plate) inside the bowl"),
        (
            "Pick up the block nearest to the plate and put it in the bowl",
            "put the nearest block to (the plate) inside the bowl",
        ),
        ("Put the one next to the bowl on the plate.", "put the object near (the bowl) on the plate"),
        ("put the block next to the bowl on the plate", "put the block near (the bowl) on the plate"),
        ("put the block that's left of the bowl on the plate", "put the block left_of (the bowl) on the plate"),
        ("Put the ball that isn't blue in the bowl.", "put the ball not blue inside the bowl"),
        ("put the cube which isn't red on the plate", "put the block not red on the plate"),
        ("Put the blocks that aren't red in the tray.", "put all blocks not red inside the tray"),
        ("put the non-red block in the bowl", "put the block not red inside the bowl"),
        ("put the largest ball in the bowl", "put the largest ball inside the bowl"),
        ("put the second cylinder from the right in the tray", "put the rank 2 rightmost cylinder inside the tray"),
        ("put the leftmost block on the plate", "put the leftmost block on the plate"),
        ("give me the smallest ball", "hand over the smallest ball"),
        ("put the block that is not on the plate in the bowl", "put the block not on (the plate) inside the bowl"),
        ("put the blue block behind the tray on the plate", "put the blue block behind (the tray) on the plate"),
        ("Put the block in front of the bowl on the plate.", "put the block in_front_of (the bowl) on the plate"),
        # colours perception names (issue 13) and their synonyms; shades compare lightness
        ("put the teal block in the tan bowl", "put the cyan block inside the beige bowl"),
        ("Give me the magenta ball.", "hand over the magenta ball"),
        ("put the turquoise cube on the black plate", "put the cyan block on the black plate"),
        ("put the beige cylinder in the cyan tray", "put the beige cylinder inside the cyan tray"),
        ("put the lightest block in the bowl", "put the lightest block inside the bowl"),
        ("Hand me the darkest ball.", "hand over the darkest ball"),
        ("put the light blue block on the plate", "put the lightest blue block on the plate"),
        ("put the dark red cube in the tray", "put the darkest red block inside the tray"),
        ("give me the darker one", "hand over the darkest object"),
    ]
    for text, expect in cases:
        add("referring", "people", text, expect)


def quantities_pronouns() -> None:
    cases = [
        ("Put one of the blocks in the bowl.", "put any 1 block inside the bowl"),
        ("put two of the blocks in the tray", "put any 2 blocks inside the tray"),
        ("put one of the red blocks on the plate", "put any 1 red block on the plate"),
        ("put either of the balls in the bowl", "put any 1 ball inside the bowl"),
        ("Put each of the balls in the tray.", "put all balls inside the tray"),
        ("put both blocks in the tray", "put the 2 blocks inside the tray"),
        ("put both of the balls in the bowl", "put the 2 balls inside the bowl"),
        ("put each block in the tray", "put all block inside the tray"),
        ("put all the blocks in the tray", "put all blocks inside the tray"),
        ("Put all blocks except the red one in the tray.", "put all blocks except (the red block) inside the tray"),
        (
            "put all the blocks except the green one on the plate",
            "put all blocks except (the green block) on the plate",
        ),
        ("Put all blocks but the red ones in the tray.", "put all blocks except (all red blocks) inside the tray"),
        ("put every ball except the blue ball in the bowl", "put all ball except (the blue ball) inside the bowl"),
        ("Put everything except the cylinders on the plate.", "put all objects except (all cylinders) on the plate"),
        ("put the blocks other than the red one in the tray", "put all blocks except (the red block) inside the tray"),
        ("Pick up the blocks and put them in the tray.", "put all blocks inside the tray"),
        ("put one ball in the bowl", "put any 1 ball inside the bowl"),
        ("put a block on the plate", "put any 1 block on the plate"),
        ("put two green blocks in the tray", "put any 2 green blocks inside the tray"),
        ("put the three blocks on the plate", "put the 3 blocks on the plate"),
        (
            "put the red block in the bowl then put the green one on the plate",
            "put the red block inside the bowl; then put the green block on the plate",
        ),
        (
            "Put the red block in the blue bowl, then put the other one in the other bowl.",
            "put the red block inside the blue bowl; then put the block except (the red block) inside the bowl "
            "except (the blue bowl)",
        ),
        (
            "put the red ball in the bowl and then put the other ball on the plate",
            "put the red ball inside the bowl; then put the ball except (the red ball) on the plate",
        ),
        (
            "put the red block on the plate and then put the others in the tray",
            "put the red block on the plate; then put all blocks except (the red block) inside the tray",
        ),
        ("put the red block on the blue one", "put the red block on the blue block"),
        ("put something red in the bowl", "put any 1 red object inside the bowl"),
        ("give me something blue", "hand over any 1 blue object"),
        ("Put down the red block in the bowl.", "put the red block inside the bowl"),
        ("put the red block down on the plate", "put the red block on the plate"),
        ("set down the green ball on the plate", "put the green ball on the plate"),
        ("Go and put the red block in the bowl.", "put the red block inside the bowl"),
        ("slide the red block to the plate", "put the red block on the plate"),
        ("push the blue block onto the plate", "put the blue block on the plate"),
        (
            "Put the red block on the plate, then put it in the bowl.",
            "put the red block on the plate; then put the red block inside the bowl",
        ),
    ]
    for text, expect in cases:
        add("quantities", "people", text, expect)


def conjunctions() -> None:
    cases = [
        (
            "Put the yellow and blue blocks in the tray.",
            "put all yellow blocks inside the tray; then put all blue blocks inside the tray",
        ),
        (
            "put the red, green and blue blocks on the plate",
            "put all red blocks on the plate; then put all green blocks on the plate; "
            "then put all blue blocks on the plate",
        ),
        (
            "Pack the red block and the blue block into the tray.",
            "put the red block inside the tray; then put the blue block inside the tray",
        ),
        (
            "put the red block and the green ball in the bowl",
            "put the red block inside the bowl; then put the green ball inside the bowl",
        ),
        (
            "Put the red block in the bowl and the blue block on the plate.",
            "put the red block inside the bowl; then put the blue block on the plate",
        ),
        ("give me the red and green balls", "hand over all red balls; then hand over all green balls"),
        ("Give me the red ball and the blue mug.", "hand over the red ball; then hand over the blue mug"),
        (
            "pick up the red block and the blue block and put them in the tray",
            "put the red block inside the tray; then put the blue block inside the tray",
        ),
        (
            "move the yellow and green cubes to the tray",
            "put all yellow blocks inside the tray; then put all green blocks inside the tray",
        ),
        (
            "put the pink cylinder in the tray and the white ball in the bowl",
            "put the pink cylinder inside the tray; then put the white ball inside the bowl",
        ),
    ]
    for text, expect in cases:
        add("conjunctions", "people", text, expect)


def stacking() -> None:
    colours = ["red", "blue", "green", "yellow", "white", "gray", "pink", "orange"]
    for i in range(8):
        a, b, c = colours[i], colours[(i + 1) % 8], colours[(i + 2) % 8]
        up = f"stack the {c} block, then the {b} block, then the {a} block (bottom up)"
        add("stacking", "cliport", f"stack the {a} block on the {b} block", f"put the {a} block on the {b} block")
        add("stacking", "people", f"Stack the {a} block on the {b} block on the {c} block.", up)
        add("stacking", "people", f"Make a tower: the {a} block on the {b} block on the {c} block.", up)
        add(
            "stacking",
            "people",
            f"Stack the blocks with the {c} block at the bottom, then {b}, then {a} on top.",
            f"stack the {c} block, then the {b} block, then the {a} block (bottom up)",
        )
        add(
            "stacking",
            "people",
            f"build a tower with the {c} block at the bottom then the {b} block then the {a} block on top",
            up,
        )
    add(
        "stacking",
        "cliport",
        "Stack the three blocks.",
        "stack any 1 block, then any 1 block, then any 1 block (bottom up)",
    )
    add("stacking", "people", "stack the two cubes", "stack any 1 block, then any 1 block (bottom up)")
    add(
        "stacking",
        "people",
        "Stack the three blocks with the blue one at the bottom.",
        "stack the blue block, then any 1 block, then any 1 block (bottom up)",
    )
    add("stacking", "people", "put the red block on top of the blue block", "put the red block on the blue block")
    # no count and no order: every block, the named end first, the rest in referents.stacking_order
    for source, text in [
        ("cliport", "Stack the blocks."),
        ("ravens", "stack all the blocks"),
        ("people", "Stack the blocks on top of each other."),
        ("people", "put the cubes into one tower"),
        ("people", "pile the blocks up"),
        ("people", "Build a tower with the blocks."),
        ("people", "stack up the blocks"),
    ]:
        add("stacking", source, text, "stack all blocks (bottom up)")
    add(
        "stacking",
        "people",
        "Stack the blocks with the blue one at the bottom.",
        "stack the blue block, then all blocks (bottom up)",
    )
    add(
        "stacking",
        "people",
        "stack the blocks with the red block on top",
        "stack all blocks, then the red block (bottom up)",
    )


def sorting() -> None:
    texts = [
        ("lohoravens", "put the blocks in the bowls with matching colors"),
        ("lohoravens", "Put the blocks in the bowls of matching colours."),
        ("people", "Put the blocks in the matching bowls."),
        ("people", "sort the blocks into the bowls by colour"),
        ("people", "Sort the blocks by colour into the bowls of the same colour."),
        ("people", "put each block in the bowl of the same color"),
        ("people", "put every block in the bowl that matches its colour"),
        ("people", "match the blocks with the bowls"),
        ("people", "put the blocks into the bowls of the same colour"),
        ("people", "Sort the blocks into the bowls according to their colour."),
        ("people", "put the blocks in the bowls that have the same colour"),
        ("people", "place the blocks in the corresponding bowls"),
    ]
    for source, text in texts:
        words = text.lower()
        objects = "all block" if ("each block" in words or "every block" in words) else "all blocks"
        bowls = "all bowls" if "bowls" in words else "all bowl"
        add("sorting", source, text, f"put each of {objects} inside {bowls} of its colour")
    add(
        "sorting",
        "people",
        "Put each ball in the bowl that matches its color.",
        "put each of all ball inside all bowl of its colour",
    )
    add(
        "sorting",
        "people",
        "put the blocks on the plates of the same colour",
        "put each of all blocks on all plates of its colour",
    )


def sequences() -> None:
    cases = [
        (
            "First put the red block in the blue bowl, then put the yellow ball on the white plate.",
            "put the red block inside the blue bowl; then put the yellow ball on the white plate",
        ),
        (
            "Pick up the red block and put it in the bowl, then give me the green ball.",
            "put the red block inside the bowl; then hand over the green ball",
        ),
        (
            "put the red block on the plate. After that, hand me the mug.",
            "put the red block on the plate; then hand over the mug",
        ),
        (
            "Take the blue cube, put it on the plate and then give me the red ball.",
            "put the blue block on the plate; then hand over the red ball",
        ),
        (
            "first stack the green block on the orange block, then put the pink cylinder in the tray",
            "put the green block on the orange block; then put the pink cylinder inside the tray",
        ),
        (
            "Move the red block to the plate and then move the blue block to the bowl.",
            "put the red block on the plate; then put the blue block inside the bowl",
        ),
        (
            "Grab the yellow block and place it in the tray. Next, put the green ball in the bowl.",
            "put the yellow block inside the tray; then put the green ball inside the bowl",
        ),
    ]
    for text, expect in cases:
        add("sequences", "calvin", text, expect)


def refusals() -> None:
    """Unknown words get suggestions and a phrasing that works; constructions that break say what is missing;
    an instruction with two meanings, or none the robot can do, asks."""
    cases = [
        ("ravens", "put the red block in the brown box", "did you mean 'tray'"),
        ("ravens", "pack the yellow block in the brown box", "This works: 'pack the yellow block in the brown tray'"),
        ("people", "put the block in the basket", "did you mean 'tray' or 'bowl'"),
        ("people", "put the red block in the glass", "did you mean 'mug'"),
        ("people", "put the bottle in the tray", "did you mean 'cylinder'"),
        ("people", "put the crimson block in the bowl", "did you mean 'red'"),
        ("people", "put the navy block on the plate", "did you mean 'blue'"),
        ("people", "put the red blok in the bowl", "did you mean 'block'"),
        ("people", "put the red block in the bwol", "did you mean 'bowl'"),
        ("people", "plase put the red block in the bowl", "This works: 'please put the red block in the bowl'"),
        ("people", "Take the red block.", "does not say what to do with it"),
        ("people", "get the blue cube", "'lift the blue cube'"),
        ("calvin", "lift the red blocks", "I can hold one object at a time"),
        ("people", "stack the block", "A stack needs at least two objects"),
        ("people", "Clear the table.", "I can't do that as one task"),
        ("people", "tidy up the blocks", "I don't know the word 'tidy'"),
        ("people", "Please put away the red block.", "'put away' does not say where"),
        ("people", "move the red block 2 metres to the left", "I move objects by centimetres"),
        ("people", "push the red block 50 cm to the right", "I move objects by 1 mm to 30 cm"),
        ("people", "push the blocks 5 cm to the left", "I move one object at a time by a distance"),
        ("calvin", "Sweep the block into the tray.", "did you mean 'push'"),
        ("people", "put the red block under the bowl", "put Y on X"),
        ("people", "put the block between the bowls", "I don't know the word 'between'"),
        ("people", "put the block in the middle of the tray", "I don't know the word 'middle'"),
        ("people", "Put the red block on the purple and yellow blocks.", "is several places"),
        ("people", "Put it in the bowl.", "I don't know what 'it' is"),
        ("people", "put the other block in the bowl", "other than what?"),
        ("people", "put the block behind the tray near the plate", "can be read more than one way"),
        ("people", "put the red in the bowl", "has no noun"),
        ("people", "put the red block", "it needs where to put it"),
        ("people", "put the red block in the", "it needs which object"),
        ("people", "give the ball", "it needs who gets it"),
        ("people", "i frobnicate", "I don't know the word 'frobnicate'"),
        ("people", "I want the block behind the tray.", "more than one way"),
        ("people", "the red block in the bowl", "start with what to do"),
        ("people", "don't put the red block in the bowl", "say what to do rather than what not to do"),
        ("people", "rotate the red block", "I can't do that"),
        ("people", "put the palest block in the bowl", "did you mean 'lightest'"),
        ("people", "put the navy cube in the fuchsia bowl", "did you mean 'blue'"),
        ("people", "put the block closest to me in the bowl", "closest to you"),
        ("people", "put some of the blocks in the tray", "say how many"),
        ("people", "put the red and blue block in the bowl", "the red"),
        ("people", "put the block to the bowl on the plate", "needs 'nearest' or 'farthest'"),
        ("calvin", "push the red block to the left", "does not say how far"),
        ("calvin", "push the blue block forward", "'push the blue block 10 cm forward'"),
        ("calvin", "slide the block towards the right", "does not say how far"),
        ("people", "put this block in the bowl", "This works: 'put the block in the bowl'"),
        ("people", "put these blocks in the tray", "I can't see where you point"),
        ("people", "I'd like the red block lifted", "I don't know the word 'lifted'"),
    ]
    for source, text, refuse in cases:
        add("refusals", source, text, refuse=refuse)


def main() -> None:
    for family in (
        pick_place,
        lifting,
        shifting,
        handover,
        politeness_and_case,
        referring,
        quantities_pronouns,
        conjunctions,
        stacking,
        sorting,
        sequences,
        refusals,
    ):
        family()
    path = Path(__file__).with_name("paraphrases.yaml")
    header = "# Generated by generate.py (edit the templates there). expect: logical_form.canonical of the parse;\n"
    header += "# refuse: a part of the one-line message the instruction must be refused (or asked about) with.\n"
    path.write_text(header + yaml.safe_dump({"entries": ENTRIES}, sort_keys=False, width=120), encoding="utf-8")
    print(f"wrote {len(ENTRIES)} entries to {path}")


if __name__ == "__main__":
    main()
