# The options each job passes to `python -m neft`, from its wildcards and the config: every option of a
# run is a rule parameter, so changing one reruns exactly the jobs it changes.


def flags(options):
    """{'sigma_d': 0.3, 'reverse_decay': True, 'lr': None} -> '--lr none --reverse-decay --sigma-d 0.3'"""
    return shlex.join(as_flags(options))


def execution(*keys):
    return {k: config["execution"][k] for k in keys}


def variant_of(w):
    """(method, tag, value) of the run's variant (neft/variants.py)."""
    try:
        return parse_variant(w.variant)
    except NeftError as e:
        raise WorkflowError(str(e)) from None


def fetched(w):
    """The dataset is in place before any job reads it; its date never reruns anything (ancient)."""
    return ancient(rules.fetch.output[0].format(dataset=w.dataset))


def pretrained_model(w):
    """The W/O Noise model of the run's seed, which a `pretrained` variant starts from."""
    return at(rules.train.output.model, [Run(w.model, w.dataset, "vanilla", 0, int(w.seed))])[0]


def searched_beta(w):
    """The beta_search rule's pick for the run's method (None: its beta is not searched, or it is a candidate)."""
    method, tag, _ = variant_of(w)
    if tag == CANDIDATE.tag or config["beta"].get(method) != "search":
        return None
    return rules.beta_search.output.beta.format(model=w.model, dataset=w.dataset, method=method)


def train_inputs(w):
    _, tag, _ = variant_of(w)
    inputs = {"data": fetched(w)}
    if tag and VARIANTS[tag].pretrained:
        inputs["pretrained"] = pretrained_model(w)
    if searched_beta(w):
        inputs["beta"] = searched_beta(w)
    return inputs


def train_flags(w):
    """Every option of the run, so that changing any of them reruns exactly the runs it changes."""
    method, tag, value = variant_of(w)
    options = dict(
        config["train"],
        model=w.model,
        dataset=w.dataset,
        method=method,
        sigma_d=float(w.sigma_d),
        seed=int(w.seed),
        **execution("device", "data_dir", "download", "num_workers", "checkpoint_every_s"),
    )
    beta = config["beta"].get(method)
    if not isinstance(beta, str) and beta is not None:
        options["beta"] = beta
    if tag:
        options.update(VARIANTS[tag].options(value, config))
        if VARIANTS[tag].pretrained:
            options["init_from"] = pretrained_model(w)
    picked = searched_beta(w)  # a YAML `beta: <the search's pick>`
    return flags(options) + (f" --config {shlex.quote(picked)}" if picked else "")


def eval_sigmas(w):
    """W/O Noise: the whole grid and every sigma_d a table reads it at; others: the grid or their own sigma_d.
    Every model also at sigma = 0 (its clean accuracy: one run)."""
    own = {0.0, float(w.sigma_d)}
    if variant_of(w)[0] == "vanilla":
        ablation = {ABLATIONS["sigma_d"]} if ABLATIONS["enabled"] else set()  # Table 2's pre+0, the init table
        return sorted(set(EVAL["sigmas"]) | set(config["sigma_d"]) | ablation | own)
    return sorted(set(EVAL["sigmas"]) | own) if EVAL["full_grid"] else sorted(own)


def eval_flags(w):
    options = {k: EVAL[k] for k in ("runs", "seed", "batch_size", "test_subset", "precision")}
    return flags(dict(options, sigmas=[num(s) for s in eval_sigmas(w)], **execution("device", "data_dir", "download")))
