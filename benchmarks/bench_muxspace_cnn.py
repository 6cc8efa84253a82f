"""CNNClassifier from scratch on muxspace, and two heads on its features: how far a network trained
on 2 CPU cores gets past the published CNN (51.88% / macro-F1 0.13).

The network is the muxspace recipe (basic augmentation, sqrt-balanced class weights, label
smoothing 0.1, ``ema=0.995``), fit on train with val for early stopping and the learning-rate
schedule. On its features (``transform``) a k-NN and a class-balanced linear head are chosen on
val; then the linear head averaged with the network, and the network and both heads averaged,
each vote's weights chosen on val. Test is only scored.
"""

import time

from _common import record
from _muxspace import (
    add,
    fit_heads,
    fit_network,
    head_on_refit,
    muxspace,
    neural_parser,
    neural_settings,
    refit_on_train_and_val,
    result_name,
    vote,
)

import fersk


def main():
    parser = neural_parser(__doc__, budget_minutes=40, epochs=80, tta="crops")
    args = parser.parse_args()
    begin = time.perf_counter()
    mux = muxspace(48, args.quick)
    name, figures = f"CNN from scratch, ema=0.995, tta={args.tta}, seed {args.seed}", {}
    row, network = fit_network(fersk.CNNClassifier(**neural_settings(args, ema=0.995)), mux)
    add(figures, name, row)
    heads = fit_heads(network.model, mux, ("knn", "linear"), network.seconds)
    for head in heads.values():
        add(figures, f"{name}, {head.name}", head.figures)
    voters = {"network": network, **heads}
    for members in (("network", "linear"), ("network", "knn", "linear")):
        add(figures, f"{name}: {' + '.join(members)} averaged", vote({m: voters[m] for m in members}, mux))
    if args.refit:
        epochs, refit, row = refit_on_train_and_val(network.model, mux)
        add(figures, f"{name}, refit on train+val for {epochs} epochs", row)
        for head in heads.values():
            add(figures, f"{name}, refit on train+val, {head.name}", head_on_refit(head, refit, mux))
    print(record(result_name("muxspace-cnn", parser, args), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
