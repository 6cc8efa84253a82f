"""fernet transferred to muxspace from fersk's FER2013 model, and a k-NN on its features: against the
published ResNet18 ImageNet transfer (88.05%).

The network starts from the shipped ``fer2013`` model (``--weights random`` for the baseline from
random weights), with a new MLP head trained alone for 2 epochs, then every layer (the backbone at
0.3 of the learning rate), on the muxspace recipe (basic augmentation, sqrt-balanced class weights,
label smoothing 0.1, ``ema=0.995``), fit on train with val for early stopping. On its features
(``transform``) a k-NN is chosen on val (k, weighting and test-time views). ``--refit`` trains the
network again on train+val for the epochs val chose and fits the same k-NN on its features. Test is
only scored.
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
)

import fersk


def main():
    parser = neural_parser(__doc__, budget_minutes=12, epochs=40, tta="crops")
    parser.add_argument("--weights", choices=["fer2013", "random"], default="fer2013", help="(default: fer2013)")
    parser.add_argument(
        "--ema", type=lambda s: None if s == "none" else float(s), default=0.995, help="or none (default: 0.995)"
    )
    args = parser.parse_args()
    begin = time.perf_counter()
    mux = muxspace(48, args.quick)
    start = "fersk's FER2013 model" if args.weights == "fer2013" else "random weights"
    name, figures = f"fernet from {start}, ema={args.ema}, tta={args.tta}, seed {args.seed}", {}
    network = fersk.TransferClassifier(
        "fernet",
        weights=None if args.weights == "random" else "fer2013",
        head_epochs=2 if args.weights == "fer2013" else 0,
        head="mlp",
        fine_tune_layers="all",
        backbone_lr_scale=0.3,
        **neural_settings(args, ema=args.ema),
    )
    row, network = fit_network(network, mux)
    add(figures, name, row)
    knn = fit_heads(network.model, mux, ("knn",), network.seconds)["knn"]
    add(figures, f"{name}, {knn.name}", knn.figures)
    if args.refit:
        epochs, refit, row = refit_on_train_and_val(network.model, mux)
        add(figures, f"{name}, refit on train+val for {epochs} epochs", row)
        add(figures, f"{name}, refit on train+val, {knn.name}", head_on_refit(knn, refit, mux))
    print(record(result_name("muxspace-transfer", parser, args), figures, time.perf_counter() - begin))


if __name__ == "__main__":
    main()
