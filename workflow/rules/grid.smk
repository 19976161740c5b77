# Which runs the config asks for (neft.layout.Run): the main grid, the ablations (each variant one entry of
# neft/variants.py, asked for by its `ablations` key), the convergence count and the beta search's
# candidates.


MAIN_VARIANTS = main_variants(config["methods"], config["compute_matched"])


def main_runs():
    """W/O Noise once at sigma_d = 0; every other method (and W/ Noise ×(N+1)) at each sigma_d."""
    for e in config["experiments"]:
        for seed in config["seeds"]:
            for variant in MAIN_VARIANTS:
                for s in [0] if variant == "vanilla" else config["sigma_d"]:
                    yield Run(e["model"], e["dataset"], variant, s, seed)


def ablation_runs():
    """Every variant the `ablations` section asks for, with the main run of its method (W/O Noise at
    sigma_d = 0) that its table compares it with; the NFT runs and the W/O Noise model always."""
    a = ABLATIONS
    if not a["enabled"]:
        return
    for seed in a["seeds"]:

        def at_setting(variant, method):
            return Run(a["model"], a["dataset"], variant, 0 if method == "vanilla" else a["sigma_d"], seed)

        yield from (at_setting(method, method) for method in ("vanilla", *nft_methods()))
        for variant in VARIANTS.values():
            for method in variant.methods if variant.key else []:
                for value in variant.values(a, method):
                    yield at_setting(method, method)
                    yield at_setting(variant.name(method, value), method)


def convergence_runs():
    c = CONVERGENCE
    if c["enabled"]:
        for seed in c["seeds"]:
            for method in c["methods"]:
                yield Run(c["model"], c["dataset"], method, c["sigma_d"], seed)


# every trained model that is evaluated; identical runs of different parts of the grid are one run
EVALUATED = sorted(set(main_runs()) | set(ablation_runs()) | set(convergence_runs()), key=lambda r: r.id)
CANDIDATE = VARIANTS["beta"]  # a beta-search candidate: <method>-beta<beta>


def searched(run):
    """(model, dataset, method) of a run whose method takes its beta from the beta_search rule."""
    method = parse_variant(run.variant)[0]
    return (run.model, run.dataset, method) if config["beta"].get(method) == "search" else None


SEARCHES = sorted({searched(r) for r in EVALUATED} - {None})


def beta_candidates(model, dataset, method):
    s = config["beta_search"]
    return [
        Run(model, dataset, CANDIDATE.name(method, num(b)), s["sigma_d"], seed)
        for b in s["grid"]
        for seed in s["seeds"]
    ]
