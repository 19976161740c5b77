"""Every run variant, declared once. A variant is a method (vanilla, noise, ovf, irs: the main runs) or a
method with a tag and maybe a value, `<method>-<tag><value>`: an ablation, the initialisation
sensitivity or a beta-search candidate. Each tag's entry says what it changes in the train options, how
the tables and the report name it, the paper's number it is checked against (a key of claims.yaml's
`ablations`), the table it belongs to and the `ablations` config key that asks for it. The workflow plans
and configures its runs from this table, aggregation parses run names with it, and the tables and the
report read it: a new ablation is one entry here (plus its config key in the schema, its table's use of
it, and its claim). A `main` variant (W/ Noise ×(N+1)) is trained in the main grid beside the methods, at
every sigma_d. Importing this module imports no torch.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from .catalogue import METHODS, nft_methods
from .errors import NeftError

METHOD = "[a-z]+"  # a method's registry name
NFT = nft_methods()  # the variants of the NFT methods apply to each of them
VARIANT = re.compile(rf"({METHOD})(?:-([a-z]+?)([0-9.]*))?")  # <method>[-<tag><value>]


@dataclass(frozen=True)
class Variant:
    tag: str
    label: str  # in tables and the report
    methods: tuple[str, ...]  # the methods it applies to
    table: str  # the table it belongs to (analysis/tables.py)
    options: Callable[[float | None, dict], dict]  # (its value, the grid config) -> the train options it sets
    key: str | None = None  # the `ablations` config key that asks for it; None: planned by the beta search
    claim: str | None = None  # its number in claims.yaml (under `ablations`); None: beyond the paper
    pretrained: bool = False  # starts from the W/O Noise model of its seed (train --init-from)
    main: bool = False  # trained in the main grid beside the methods, at every sigma_d (Figure 3 and 4)
    style: dict | None = None  # a main variant's line in the figures (as a method's in neft/catalogue.py)

    def values(self, ablations: dict, method: str) -> list[str]:
        """The values of the tag that the config's `ablations` asks for, for `method`: a list (per method
        where it is a mapping) of values, or, for a switch or a setting, [''] (the tag alone) when on."""
        if method not in self.methods:
            return []
        asked = ablations[self.key]
        asked = asked[method] if isinstance(asked, dict) else asked
        if isinstance(asked, list):
            return [str(v) for v in asked]
        return [] if asked is None or asked is False else [""]

    def name(self, method: str, value: str = "") -> str:
        return f"{method}-{self.tag}{value}"


VARIANTS = {
    v.tag: v
    for v in [
        Variant(
            "n",
            "number of feedbacks N",
            NFT,
            "table1",
            lambda n, cfg: {"n_feedback": int(n)},
            key="n_feedback",
            claim="table1_number_of_feedbacks",
        ),
        Variant(
            "pre",
            "pretrained + k epochs",
            NFT,
            "table2",
            lambda k, cfg: {"epochs": int(k)},
            key="pretrained_epochs",
            claim="table2_pretrained",
            pretrained=True,
        ),
        Variant(
            "revdecay",
            "reversed decay",
            NFT,
            "ablations",
            lambda _, cfg: {"reverse_decay": True},
            key="reversed_decay",
            claim="reversed_decay",
        ),
        Variant(
            "revsigma",
            "reversed delta sigma",
            ("ovf",),
            "ablations",
            lambda _, cfg: {"delta_sigma": cfg["ablations"]["reversed_delta_sigma"]},
            key="reversed_delta_sigma",
            claim="reversed_oriented_sigma",
        ),
        Variant(
            "noheadnoise",
            "no head noise",
            ("irs",),
            "ablations",
            lambda _, cfg: {"head_sigma": 0.0},
            key="irs_without_head_noise",
            claim="irs_without_head_noise",
        ),
        Variant(
            "initpytorch",
            "PyTorch's default initialisation",
            tuple(METHODS),
            "init",
            lambda _, cfg: {"init": "pytorch"},
            key="init_sensitivity",
        ),
        Variant(
            "posfb",
            "positive feedback (+β)",
            NFT,
            "feedback",
            lambda _, cfg: {"positive_feedback": True},
            key="positive_feedback",
        ),
        Variant(
            "draws",
            "W/ Noise ×(N+1)",
            ("noise",),
            "feedback",
            lambda k, cfg: {"n_draws": int(k)},
            main=True,
            style=dict(color="#CC79A7", marker="v", linestyle=(0, (5, 1.5, 1, 1.5, 1, 1.5))),
        ),
        Variant("beta", "β-search candidate", NFT, "beta", lambda b, cfg: {"beta": b}),
    ]
}


def compute_matched() -> str:
    """The W/ Noise variant with as many noise draws per step as OVF has forwards (K = N + 1): 'noise-draws4'."""
    return VARIANTS["draws"].name("noise", str(METHODS["ovf"].feedbacks + 1))


def main_variants(methods: list[str], compute_matched_on: bool) -> list[str]:
    """The main grid's variants (Figure 3 and 4's lines): the methods, and W/ Noise ×(N+1) when asked for."""
    return [*methods, *([compute_matched()] if compute_matched_on and "noise" in methods else [])]


def is_main(variant: str) -> bool:
    """A method, or a variant trained in the main grid (W/ Noise ×(N+1))."""
    tag = parse_variant(variant)[1]
    return not tag or VARIANTS[tag].main


def parse_variant(variant: str) -> tuple[str, str, float | None]:
    """'ovf-pre50' -> ('ovf', 'pre', 50.0); 'irs' -> ('irs', '', None); an unknown tag is an error."""
    m = VARIANT.fullmatch(variant)
    if not m or (m[2] and m[2] not in VARIANTS):
        raise NeftError(
            f"unknown run variant {variant!r}: a method, or <method>-<tag> with tag in {', '.join(VARIANTS)}"
        )
    try:
        return m[1], m[2] or "", float(m[3]) if m[3] else None
    except ValueError:
        raise NeftError(f"run variant {variant!r}: {m[3]!r} is not a number") from None


def of_table(table: str) -> list[Variant]:
    """The variants shown in `table`, in the order declared."""
    return [v for v in VARIANTS.values() if v.table == table]
