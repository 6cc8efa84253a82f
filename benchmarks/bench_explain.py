"""Which explanation method is faithful, and where fersk's models look, on FER2013 PrivateTest.

For every method of :func:`fersk.explain.explain`, on the same PrivateTest faces (500 by default,
drawn with a fixed seed), the script gives

- faithfulness (:func:`fersk.explain.faithfulness`): the area under the class-probability curve as
  the most-attributed pixels are removed (deletion, lower is better) or revealed (insertion,
  higher is better) first, each against the same curve for a random order;
- region shares (:func:`fersk.explain.region_shares`): the share of each map's positive evidence on
  the eyes and brows, on the mouth and elsewhere, from FER2013's typical landmark positions,

for three models:

- ``shipped``: ``fersk.load_pretrained("fer2013")``, fernet trained from random weights on all of
  FER2013 Training (85.7 minutes);
- ``cnn``: a ``CNNClassifier`` (FERNet) trained from scratch here, on a subset of Training,
  within a time budget (10 minutes by default);
- ``transfer``: a ``TransferClassifier("fernet", weights="fer2013")``: the shipped model's
  backbone, fine-tuned (head first, then all layers) on the same subset within the same budget.
  No ImageNet weights can be downloaded on this machine, so this is the one backbone with
  pretrained weights offline.

The two trained models are kept in ``benchmarks/out/explain-models/`` (git-ignored) and reused by
later runs; ``--retrain`` trains them again. Writes ``results/explain.json`` (its ``markdown``
entry is the table) and ``results/explain.png``.
"""

import argparse
import json
import sys
import time

import numpy as np
from _common import HERE, SHARED_DATA, record

import fersk
from fersk.explain import METHODS, REGIONS, explain, faithfulness, region_shares
from fersk.training import TimeBudget

MODELS_DIR = HERE / "out" / "explain-models"
SCORES_DIR = HERE / "out" / "explain-scores"  # each model's per-face figures, so runs of different models combine


def training_subset(data, n, seed):
    """``n`` Training faces, drawn at random in proportion to the classes."""
    from sklearn.model_selection import train_test_split

    train = np.flatnonzero(np.asarray(data.usage) == "Training")
    if n >= len(train):
        return train
    chosen, _ = train_test_split(train, train_size=n, stratify=data.target[train], random_state=seed)
    return np.sort(chosen)


def make_model(kind, budget_seconds, max_epochs, seed):
    common = dict(
        augment="basic",
        label_smoothing=0.1,
        lr=1e-3,
        batch_size=64,
        max_epochs=max_epochs,
        validation_fraction=0.1,
        early_stopping=5,
        lr_patience=2,
        random_state=seed,
        verbose=1,
        callbacks=[("time_budget", TimeBudget(budget_seconds))],
    )
    if kind == "cnn":
        # FERNet at half the shipped widths: about four times the images per second, so more epochs in the budget
        return fersk.CNNClassifier(module__channels=(16, 32, 64, 128), **common)
    # the shipped model's backbone with a new head, every layer trained from the first epoch (the backbone at lr/10):
    # a first epoch for the head alone would use up the budget on this machine
    return fersk.TransferClassifier("fernet", weights="fer2013", head_epochs=0, fine_tune_layers="all", **common)


DESCRIPTIONS = {
    "cnn": "CNNClassifier(module__channels=(16, 32, 64, 128)), from random weights",
    "transfer": "TransferClassifier('fernet', weights='fer2013', head_epochs=0, fine_tune_layers='all', "
    "backbone_lr_scale=0.1)",
}


def trained(kind, data, args):
    """The model of that kind, trained now or as a previous run left it, and how it was trained."""
    path, info_path = MODELS_DIR / f"{kind}.fersk", MODELS_DIR / f"{kind}.json"
    if path.is_file() and info_path.is_file() and not args.retrain:
        return fersk.load(path), json.loads(info_path.read_text())
    index = training_subset(data, args.train_images if kind == "cnn" else args.transfer_images, args.seed)
    model = make_model(kind, args.train_minutes * 60, args.max_epochs, args.seed)
    start = time.perf_counter()
    model.fit(data.data[index], data.target[index])
    seconds = time.perf_counter() - start
    private = np.asarray(data.usage) == "PrivateTest"
    info = {
        "estimator": DESCRIPTIONS[kind],
        "settings": "augment='basic', label_smoothing=0.1, lr=1e-3, batch_size=64, validation_fraction=0.1, "
        "early_stopping=5, lr_patience=2, TimeBudget",
        "training images": int(len(index)),
        "epochs": len(model.history),
        "budget minutes": args.train_minutes,
        "max_epochs": args.max_epochs,
        "fit minutes": round(seconds / 60, 1),
        "PrivateTest accuracy": round(float(model.score(data.data[private], data.target[private])), 4),
    }
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    fersk.save(model, path)
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    print(kind, info, flush=True)
    return model, info


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=500, help="PrivateTest faces explained (default: 500)")
    parser.add_argument("--train-images", type=int, default=8000, help="Training faces (default: 8000)")
    parser.add_argument("--transfer-images", type=int, default=3000, help="Training faces to fine-tune on")
    parser.add_argument("--train-minutes", type=float, default=10, help="budget per training run (default: 10)")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--samples", type=int, default=200, help="perturbations per face for lime/kernel_shap")
    parser.add_argument("--steps", type=int, default=16, help="points on each deletion/insertion curve")
    parser.add_argument("--chunk", type=int, default=50, help="faces per step; the JSON is rewritten after each")
    parser.add_argument("--examples", type=int, default=2, help="faces drawn with every map (default: 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--models",
        nargs="+",
        choices=("shipped", "cnn", "transfer"),
        default=["shipped", "cnn", "transfer"],
        help="the models this run explains; the JSON combines every model's saved scores (default: all three)",
    )
    parser.add_argument("--retrain", action="store_true", help="train the two models again")
    parser.add_argument("--report", action="store_true", help="only write the JSON and figures from saved scores")
    parser.add_argument("--train-only", action="store_true", help="train (or find) the models and stop")
    parser.add_argument("--quick", action="store_true", help="6 faces, 2,000 training images, 1 minute each")
    parser.add_argument("--data", default=str(SHARED_DATA / "fer2013"))
    args = parser.parse_args()
    if args.quick:
        args.faces, args.train_images, args.transfer_images, args.train_minutes, args.max_epochs = 6, 2000, 2000, 1, 2
        args.samples, args.steps, args.chunk = 24, 6, 3
        global MODELS_DIR, SCORES_DIR
        MODELS_DIR, SCORES_DIR = HERE / "out" / "explain-models-quick", HERE / "out" / "explain-scores-quick"
    begin = time.perf_counter()
    data = fersk.load_fer2013(args.data)
    kinds = () if args.report else KINDS if args.train_only else args.models
    models = {}
    for kind in kinds:
        if kind == "shipped":
            models[kind] = (fersk.load_pretrained("fer2013"), {"estimator": "fersk.load_pretrained('fer2013')"})
        else:
            models[kind] = trained(kind, data, args)
    if args.train_only:
        return
    private = np.flatnonzero(np.asarray(data.usage) == "PrivateTest")
    chosen = np.sort(
        np.random.default_rng(args.seed).choice(private, size=min(args.faces, len(private)), replace=False)
    )
    X, y = data.data[chosen], data.target[chosen]
    settings = {key: getattr(args, key) for key in ("faces", "seed", "samples", "steps", "chunk", "quick")}
    if args.report:
        write_results(X, y, settings, args, begin)
        return
    for kind, (model, info) in models.items():
        path = SCORES_DIR / f"{kind}.json"
        saved = json.loads(path.read_text()) if path.is_file() else {}
        run = Run.load(saved, info) if saved.get("settings") == settings else Run(info)
        for start in range(run.done, len(X), args.chunk):
            part = slice(start, start + args.chunk)
            predicted = model.predict(X[part])
            run.accuracy.extend((predicted == y[part]).tolist())
            maps = {}
            for method in METHODS:
                tick = time.perf_counter()
                maps[method] = explain(model, X[part], method=method, target=predicted, n_samples=samples(method, args))
                run.scores[method].seconds += time.perf_counter() - tick
            faithful = faithfulness(model, X[part], maps, target=predicted, steps=args.steps, random_state=start)
            for method in METHODS:
                run.scores[method].add(faithful[method], region_shares(maps[method]))
            if start == 0:
                run.examples = {method: heat[: args.examples].tolist() for method, heat in maps.items()}
            run.done = min(start + args.chunk, len(X))
            SCORES_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(run.dump(settings)))
            print(f"{kind}: {run.done}/{len(X)} faces, {time.perf_counter() - begin:.0f} s", flush=True)
            write_results(X, y, settings, args, begin)


KINDS = ("shipped", "cnn", "transfer")


def write_results(X, y, settings, args, begin):
    """The JSON, table and figures from every model's saved scores, over the faces all of them have done."""
    runs = {}
    for kind in KINDS:
        path = SCORES_DIR / f"{kind}.json"
        saved = json.loads(path.read_text()) if path.is_file() else {}
        if saved.get("settings") == settings:
            runs[kind] = Run.load(saved, saved["training"])
    if set(runs) != set(KINDS):
        print("the JSON waits for scores of", ", ".join(sorted(set(KINDS) - set(runs))), flush=True)
        return
    done = min(run.done for run in runs.values())
    for run in runs.values():
        run.truncate(done)
    name = "explain" + ("-quick" if args.quick else "")
    details = summary(runs, done, args)
    # the headline figures for RESULTS.md's one row; the rest beside them in the same file
    figures = {
        "faces": done,
        "most faithful": details["ranking"][0],
        **{f"gain {m}": round(details["mean gain"][m], 3) for m in METHODS},
        **{
            f"{kind} eyes+brows+mouth, {m}": round(stats["eyes_brows"] + stats["mouth"], 3)
            for kind, model in details["models"].items()
            for m, stats in model["methods"].items()
            if m in ("gradcam", details["ranking"][0])
        },
    }
    record(name, figures, time.perf_counter() - begin)
    out = HERE / ("out" if args.quick else "results")
    path = out / f"{name}.json"
    entry = json.loads(path.read_text())
    entry["details"] = details
    path.write_text(json.dumps(entry, indent=2) + "\n")
    (out / f"{name}.md").write_text(
        f"# Explanations on FER2013 PrivateTest\n\nWritten by `{entry['command']}` ({entry['date']}, "
        f"{entry['machine']}) from the scores of: "
        + "; ".join(f"`{c}` ({k})" for k, c in details["commands"].items())
        + f".\n\n{details['markdown']}\n\n{details['answer']}\n\nTraining:\n\n"
        + "\n".join(f"- {kind}: {json.dumps(info)}" for kind, info in details["training"].items())
        + "\n"
    )
    draw(runs, details, out / f"{name}.png")
    draw_maps(X[: args.examples], y[: args.examples], runs, out / f"{name}-maps.png")
    print(details["markdown"])
    print(details["answer"], flush=True)


class Run:
    """One model's per-face figures for every method, as saved between runs."""

    def __init__(self, training):
        self.training, self.done, self.accuracy, self.examples = training, 0, [], {}
        self.command = "python benchmarks/bench_explain.py " + " ".join(sys.argv[1:])
        self.scores = {method: Scores() for method in METHODS}

    @classmethod
    def load(cls, saved, training):
        run = cls(training)
        run.done, run.accuracy, run.examples = saved["done"], saved["accuracy"], saved["examples"]
        run.command = saved.get("command", run.command)
        for method, stored in saved["methods"].items():
            run.scores[method].values, run.scores[method].seconds = stored["values"], stored["seconds"]
        return run

    def dump(self, settings):
        return {
            "settings": settings,
            "command": self.command,
            "training": self.training,
            "done": self.done,
            "accuracy": self.accuracy,
            "examples": self.examples,
            "methods": {m: {"values": s.values, "seconds": s.seconds} for m, s in self.scores.items()},
        }

    def truncate(self, n):
        self.accuracy = self.accuracy[:n]
        for score in self.scores.values():
            score.values = {key: values[:n] for key, values in score.values.items()}
            score.seconds *= n / max(self.done, 1)
        self.done = n


def samples(method, args):
    return {"lime": args.samples, "kernel_shap": args.samples, "gradient_shap": 16}.get(method)


class Scores:
    """Per-face figures of one method on one model."""

    def __init__(self):
        self.values = {key: [] for key in (*KEYS, *REGIONS)}
        self.seconds = 0.0

    def add(self, faithful, shares):
        for key in KEYS:
            self.values[key].extend(faithful[key].tolist())
        for region in REGIONS:
            self.values[region].extend(shares[region].tolist())

    def mean(self, key):
        return float(np.nanmean(self.values[key]))

    def sem(self, key):
        values = np.asarray(self.values[key], dtype=float)
        values = values[np.isfinite(values)]
        return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


KEYS = ("deletion", "random_deletion", "insertion", "random_insertion", "deletion_gain", "insertion_gain")


def summary(runs, done, args):
    """The figures of the JSON: per model and method, and the markdown table and the answers."""
    area = region_shares(np.ones((1, 48, 48)))["area"]
    per_model = {}
    rows = [
        "| model | method | deletion (lower better) | random | insertion (higher better) | random | gain "
        "(del + ins) | eyes & brows | mouth | elsewhere | s/face |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, run in runs.items():
        per_method = {}
        for method in METHODS:
            score = run.scores[method]
            gain = score.mean("deletion_gain") + score.mean("insertion_gain")
            per_method[method] = {
                **{key: round(score.mean(key), 4) for key in KEYS},
                "gain": round(gain, 4),
                "gain_sem": round(np.hypot(score.sem("deletion_gain"), score.sem("insertion_gain")), 4),
                **{region: round(score.mean(region), 4) for region in REGIONS},
                "seconds per face": round(score.seconds / done, 3),
            }
            m = per_method[method]
            rows.append(
                f"| {kind} | {method} | {m['deletion']:.3f} | {m['random_deletion']:.3f} | {m['insertion']:.3f} | "
                f"{m['random_insertion']:.3f} | {m['gain']:+.3f} | {m['eyes_brows']:.1%} | {m['mouth']:.1%} | "
                f"{m['elsewhere']:.1%} | {m['seconds per face']:.2f} |"
            )
        per_model[kind] = {"accuracy on these faces": round(float(np.mean(run.accuracy)), 4), "methods": per_method}
    rows.append(
        f"| (area: a map spread evenly) | | | | | | | {area['eyes_brows'][0]:.1%} | {area['mouth'][0]:.1%} | "
        f"{area['elsewhere'][0]:.1%} | |"
    )
    mean_gain = {method: np.mean([per_model[k]["methods"][method]["gain"] for k in runs]) for method in METHODS}
    ranked = sorted(METHODS, key=mean_gain.get, reverse=True)
    best = {kind: max(METHODS, key=lambda m: per_model[kind]["methods"][m]["gain"]) for kind in runs}
    focus = {pair: paired_focus(runs, *pair) for pair in (("transfer", "cnn"), ("transfer", "shipped"))}

    def compare(pair):
        rows = focus[pair]
        above = sum(low > 0 for _, low, _ in rows.values())
        below = sum(high < 0 for _, _, high in rows.values())
        return (
            f"{pair[0]} minus {pair[1]}, paired over the same faces: more for {above}, less for {below}, no clear "
            f"difference for {len(rows) - above - below} of {len(rows)} methods ("
            + ", ".join(f"{m} {mean:+.1%} [{low:+.1%}, {high:+.1%}]" for m, (mean, low, high) in rows.items())
            + ")"
        )

    answer = (
        f"Most faithful (deletion gain + insertion gain over a random order, mean of the three models): {ranked[0]} "
        f"({mean_gain[ranked[0]]:+.3f}), then {ranked[1]} ({mean_gain[ranked[1]]:+.3f}); least: {ranked[-1]} "
        f"({mean_gain[ranked[-1]]:+.3f}). Most faithful per model: "
        + ", ".join(f"{kind} {method}" for kind, method in best.items())
        + ". Share of positive evidence on eyes, brows and mouth (a map spread evenly puts "
        f"{area['eyes_brows'][0] + area['mouth'][0]:.1%} there), difference with a 95% interval: "
        + "; ".join(compare(pair) for pair in focus)
        + "."
    )
    training = {kind: run.training for kind, run in runs.items()}
    return {
        "faces": done,
        "faces asked": args.faces,
        "split": "FER2013 PrivateTest, drawn with numpy default_rng(seed)",
        "seed": args.seed,
        "perturbations per face (lime, kernel_shap)": args.samples,
        "gradient_shap samples": 16,
        "curve steps": args.steps,
        "baseline": "blur",
        "explained class": "each model's prediction (predict, with its own test-time augmentation)",
        "regions": "fersk.explain.region_masks with FER2013's typical landmarks (FER2013_LANDMARKS)",
        "training": training,
        "commands": {kind: run.command for kind, run in runs.items()},
        "models": per_model,
        "ranking": ranked,
        "most faithful per model": best,
        "eyes, brows and mouth: paired differences (mean, 95% low, 95% high)": {
            f"{a} - {b}": {m: [round(v, 4) for v in values] for m, values in rows.items()}
            for (a, b), rows in focus.items()
        },
        "mean gain": {m: float(g) for m, g in mean_gain.items()},
        "answer": answer,
        "markdown": "\n".join(rows),
    }


def paired_focus(runs, first, second):
    """Per method: the mean per-face difference of the eyes+brows+mouth share between two models, with a 95%
    interval (the faces are the same, so the difference is paired)."""
    rows = {}
    for method in METHODS:
        a, b = (
            np.add(runs[kind].scores[method].values["eyes_brows"], runs[kind].scores[method].values["mouth"])
            for kind in (first, second)
        )
        diff = (a - b)[np.isfinite(a - b)]
        half = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        rows[method] = (float(diff.mean()), float(diff.mean() - half), float(diff.mean() + half))
    return rows


def draw_maps(X, y, runs, path):
    """The first faces, each method's map over them, with the regions' outlines."""
    from matplotlib.figure import Figure

    from fersk.explain import overlay, region_masks

    masks = region_masks((48, 48))
    examples = {kind: run.examples for kind, run in runs.items()}
    rows = [(kind, i) for kind in examples for i in range(len(X))]
    fig = Figure(figsize=(1.3 * (len(METHODS) + 1), 1.4 * len(rows)))
    axes = fig.subplots(len(rows), len(METHODS) + 1, squeeze=False)
    for (kind, i), row in zip(rows, axes):
        row[0].imshow(X[i].reshape(48, 48), cmap="gray", vmin=0, vmax=255)
        row[0].set_title(f"{kind}: {y[i]}", fontsize=7)
        for ax, method in zip(row[1:], METHODS):
            ax.imshow(overlay(X[i].reshape(48, 48), np.asarray(examples[kind][method][i])))
            for mask in (masks["eyes_brows"], masks["mouth"]):
                ax.contour(mask, levels=[0.5], colors="white", linewidths=0.6)
            ax.set_title(method, fontsize=7)
        for ax in row:
            ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=72)


def draw(runs, figures, path):
    """Faithfulness gains and the share on eyes, brows and mouth, per method and model."""
    from matplotlib.figure import Figure

    models = list(figures["models"])
    fig = Figure(figsize=(12, 3.6))
    axes = fig.subplots(1, 3)
    x = np.arange(len(METHODS))
    width = 0.8 / len(models)
    area = region_shares(np.ones((1, 48, 48)))["area"]
    for j, kind in enumerate(models):
        stats = figures["models"][kind]["methods"]
        for ax, key in zip(axes[:2], ("deletion_gain", "insertion_gain")):
            values = [stats[m][key] for m in METHODS]
            errors = [1.96 * runs[kind].scores[m].sem(key) for m in METHODS]
            ax.bar(x + j * width, values, width, yerr=errors, label=kind)
        axes[2].bar(x + j * width, [stats[m]["eyes_brows"] + stats[m]["mouth"] for m in METHODS], width, label=kind)
    axes[2].axhline(area["eyes_brows"][0] + area["mouth"][0], color="k", ls="--", lw=1, label="area")
    titles = (
        "deletion: random AUC minus map AUC",
        "insertion: map AUC minus random AUC",
        "share of positive evidence on eyes, brows, mouth",
    )
    for ax, title in zip(axes, titles):
        ax.set_xticks(x + 0.4 - width / 2, METHODS, rotation=35, ha="right", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.axhline(0, color="k", lw=0.5)
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    fig.suptitle(f"{figures['faces']} FER2013 PrivateTest faces: faithfulness (higher is better) and where models look")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
