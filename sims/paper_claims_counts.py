"""Parameter counts of ``sims.paper_claims``: Example D.2 / Fig D.4 of paper 000 (a 10 x 10 layer
split at rank 2) and the counts of paper 001's Examples 4.1 and 4.3-4.7 (Section 4.5), counted on
the pipeline's own layers.
"""
from __future__ import annotations

from core import protocol
from core.result import Verdict

# Parameter counts are exact: "approximately" with tolerance 0 (a count either matches or not).
DECLARATIONS = {
    "000:example:D.2": protocol.declare(
        "000:example:D.2", "parameters of the 10 x 10 layer split at rank 2, counted on "
        "nets.algorithms.split_layer, against the printed 20", "approximately", margin=0.0),
    "000:figure:D.4": protocol.declare(
        "000:figure:D.4", "the same count (the figure repeats Example D.2) against 20", "approximately",
        margin=0.0),
    **{cid: protocol.declare(cid, "parameters of the dense and of the split network (biases included), "
                                  "counted on torch Linear layers, against the printed counts",
                             "all_parts")
       for cid in ("001:text:4.5.3", "001:text:4.5.4", "001:text:4.5.5", "001:text:4.5.6", "001:text:4.5.7")},
    "001:text:4.2.1": protocol.declare(
        "001:text:4.2.1", "parameters of W_1 784 x 1000 and of its rank-20 factors (biases excluded) "
        "against 784,000 and 35,680, and the factors below 10% of W_1", "all_parts"),
}


# -- Example D.2 ----------------------------------------------------------------------------------
def example_d2() -> tuple[list[dict], list[Verdict]]:
    import torch
    from nets.layers import count_parameters
    from nets.algorithms import split_layer
    model = torch.nn.Sequential(torch.nn.Linear(10, 10, bias=False))
    before = count_parameters(model)
    split_layer(model, "0", rank=2)
    after = count_parameters(model)
    closed_form = 2 * (10 + 10)
    rec = {"table": "example_D2", "parameters_before": before, "parameters_after_split": after,
           "closed_form_k_m_plus_n": closed_form, "paper_after": 20}
    setting = "10 x 10 weight matrix, 8 of 10 singular values removed, split 10-2-10"
    corrected = (f"the split layer has k (m + n) = 2 (10 + 10) = {closed_form} parameters "
                 f"(20 per factor), not 20; still fewer than the {before} of the dense layer")
    out = []
    for cid, note in (("000:example:D.2", "counted on nets.algorithms.split_layer and by the closed form; "
                                          "they agree"),
                      ("000:figure:D.4", "the figure repeats Example D.2")):
        d = protocol.approximately(DECLARATIONS[cid], float(after), 20.0)
        out.append(protocol.verdict(DECLARATIONS[cid], d, setting=setting, measured=float(after), bound=20.0,
                                    corrected=corrected if d.word != "holds" else "", note=f"{note}; {d.reason}"))
    verdict, figure = out
    return [rec], [verdict, figure]


# -- paper 001's parameter counts (Section 4.5) ----------------------------------------------------
# The architectures and counts as printed in paper 001 (Examples 4.1, 4.3-4.7); the split networks
# list every layer width, each consecutive pair a Linear layer with a bias.
PAPER001_COUNTS = {
    "001:text:4.5.3": ("Example 4.3", [784, 3000, 3000, 500, 10], 12_863_510,
                       [784, 367, 176, 89, 54, 35, 3000, 143, 293, 627, 1366, 629, 294, 139, 3000,
                        71, 124, 241, 500, 10], 3_881_124),
    "001:text:4.5.4": ("Example 4.4", [784, 1500, 1500, 500, 500, 10], 4_435_010,
                       [784, 354, 167, 1500, 309, 677, 309, 1500, 228, 500, 105, 227, 107, 500, 10],
                       2_554_157),
    "001:text:4.5.5": ("Example 4.5", [784, 1500, 1500, 500, 500, 10], 4_435_010,
                       [784, 354, 164, 1500, 144, 309, 677, 309, 144, 1500, 107, 228, 500, 51, 107,
                        227, 107, 53, 500, 10], 1_943_563),
    "001:text:4.5.6": ("Example 4.6", [784, 2500, 2500, 2500, 2500, 500, 10], 21_975_510,
                       [784, 362, 2500, 518, 1134, 518, 2500, 518, 1134, 518, 2500, 518, 1134, 518,
                        2500, 234, 500, 10], 13_207_896),
    "001:text:4.5.7": ("Example 4.7", [784, 3000, 3000, 3000, 10], 20_391_010,
                       [784, 361, 3000, 1359, 3000, 1359, 3000, 10], 17_716_113),
}


def fc_parameters(widths: list[int], bias: bool = True) -> int:
    """Parameters of a chain of Linear layers widths[0] -> widths[1] -> ..., counted on torch."""
    import torch
    from nets.layers import count_parameters
    layers = [torch.nn.Linear(a, b, bias=bias, device="meta") for a, b in zip(widths, widths[1:])]
    return count_parameters(torch.nn.Sequential(*layers))


def paper001_counts() -> tuple[list[dict], list[Verdict]]:
    rows, verdicts = [], []
    for cid, (name, dense, dense_printed, split, split_printed) in PAPER001_COUNTS.items():
        d, sp = fc_parameters(dense), fc_parameters(split)
        decl = DECLARATIONS[cid]
        decision = protocol.all_parts(decl, [protocol.approximately(DECLARATIONS["000:example:D.2"], d, dense_printed),
                                             protocol.approximately(DECLARATIONS["000:example:D.2"], sp, split_printed)])
        rows.append({"table": "paper001_counts", "claim": cid, "dense": d, "dense_printed": dense_printed,
                     "split": sp, "split_printed": split_printed})
        verdicts.append(protocol.verdict(
            decl, decision, setting=f"{name}: {dense} and its split network (biases included)",
            measured=float(sp), bound=float(split_printed),
            note=f"counted {d:,} (printed {dense_printed:,}) and {sp:,} (printed {split_printed:,}) "
                 f"parameters; the split network keeps {sp / d:.1%}"))
    w1 = fc_parameters([784, 1000], bias=False)
    factors = fc_parameters([784, 20], bias=False) + fc_parameters([20, 1000], bias=False)
    rows.append({"table": "paper001_counts", "claim": "001:text:4.2.1", "dense": w1,
                 "split": factors})
    decl = DECLARATIONS["001:text:4.2.1"]
    exact = DECLARATIONS["000:example:D.2"]   # tolerance 0: a count matches or not
    decision = protocol.all_parts(decl, [protocol.approximately(exact, w1, 784_000),
                                         protocol.approximately(exact, factors, 35_680),
                                         protocol.bound(decl, factors, 0.1 * w1)])
    verdicts.append(protocol.verdict(
        decl, decision, setting="Example 4.1: W_1 784 x 1000 kept at 20 singular values, biases excluded",
        measured=float(factors), bound=35_680.0,
        note=f"{w1:,} -> {factors:,} parameters, a reduction by {1 - factors / w1:.1%}"))
    return rows, verdicts
