"""Sentiment accuracy of the Data Hub's model against VADER alone, on customer-feedback sentences.

    .venv/bin/python bench/bench_sentiment.py
    .venv/bin/python bench/bench_sentiment.py --data tests/data/feedback_sentiment.csv --folds 5

Two measurements, neither on sentences the model was trained on:

1. **Held-out set** (``tests/data/feedback_sentiment.csv``, 204 sentences labelled positive/neutral/negative,
   from domains the training sentences do not cover: hotels, airlines, banks, telecoms, clinics, food
   delivery, insurance, utilities, transport, courses, car rental, gyms). The model is trained on all of
   ``workspace/datahub/sentiment_training.csv`` and scored here.
2. **Cross-validation** on the training sentences (stratified k folds): each fold is scored by a model
   trained on the other folds. The same folds choose the neutral band the app uses.

Compared side by side: VADER 3.3.2 alone (compound, its ±0.05 convention), VADER with the app's former
customer-feedback lexicon (what the Data Hub used before), and the model. Accuracy and per-class
precision/recall are printed; results are also written to bench/results/bench_sentiment.json (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workspace.datahub import sentiment  # noqa: E402

LABELS = list(sentiment.LABELS)
BANDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def read(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def by_band(values: np.ndarray, band: float) -> list[str]:
    return ["positive" if v >= band else "negative" if v <= -band else "neutral" for v in values]


def vader_labels(texts: list[str], lexicon: bool) -> list[str]:
    analyzer = sentiment.vader() if lexicon else SentimentIntensityAnalyzer()
    return by_band(np.array([analyzer.polarity_scores(t)["compound"] for t in texts]), 0.05)


def model_valences(train: tuple[list[str], list[str]], texts: list[str]) -> np.ndarray:
    model = sentiment.FeedbackModel(*train)
    return np.array([np.mean(model.valence([p for p in sentiment.pieces(t) if p] or [t])) for t in texts])


def report(name: str, truth: list[str], predicted: list[str]) -> dict:
    precision, recall, _, support = precision_recall_fscore_support(truth, predicted, labels=LABELS, zero_division=0)
    return {"name": name, "accuracy": accuracy_score(truth, predicted),
            "per_class": {label: {"precision": float(p), "recall": float(r), "n": int(n)}
                          for label, p, r, n in zip(LABELS, precision, recall, support)}}


def table(title: str, rows: list[dict]) -> str:
    head = f"{'':34}{'accuracy':>9}" + "".join(f"{label[:3] + ' P/R':>13}" for label in LABELS)
    lines = [title, head]
    for row in rows:
        cells = "".join(f"{row['per_class'][l]['precision']:>7.0%}/{row['per_class'][l]['recall']:<5.0%}"
                        for l in LABELS)
        lines.append(f"{row['name']:34}{row['accuracy']:>9.1%}{cells}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "feedback_sentiment.csv")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    train_texts, train_labels = sentiment.training_sentences()
    # Cross-validation on the training sentences: out-of-fold valences, then the band that reads them best.
    out_of_fold = np.zeros(len(train_texts))
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
    for fit, held in folds.split(train_texts, train_labels):
        out_of_fold[held] = model_valences(([train_texts[i] for i in fit], [train_labels[i] for i in fit]),
                                           [train_texts[i] for i in held])
    band_accuracy = {band: accuracy_score(train_labels, by_band(out_of_fold, band)) for band in BANDS}
    cv_rows = [report("VADER alone", train_labels, vader_labels(train_texts, lexicon=False)),
               report("VADER + lexicon (before)", train_labels, vader_labels(train_texts, lexicon=True)),
               report(f"model (band {sentiment.NEUTRAL_BAND})", train_labels,
                      by_band(out_of_fold, sentiment.NEUTRAL_BAND))]

    texts, truth = read(args.data)
    valences = model_valences((train_texts, train_labels), texts)
    held_rows = [report("VADER alone", truth, vader_labels(texts, lexicon=False)),
                 report("VADER + lexicon (before)", truth, vader_labels(texts, lexicon=True)),
                 report(f"model (band {sentiment.NEUTRAL_BAND})", truth, by_band(valences, sentiment.NEUTRAL_BAND))]

    print(table(f"Held-out set: {len(texts)} sentences ({args.data.relative_to(ROOT)}), model trained on "
                f"{len(train_texts)} others", held_rows))
    print()
    print(table(f"{args.folds}-fold cross-validation on the {len(train_texts)} training sentences", cv_rows))
    print("neutral band chosen on the folds: " + ", ".join(f"{b}: {a:.1%}" for b, a in band_accuracy.items()))
    wrong = [(t, l, round(float(v), 2)) for t, l, v in zip(texts, truth, valences)
             if by_band(np.array([v]), sentiment.NEUTRAL_BAND)[0] != l]
    print(f"\nModel's misses on the held-out set ({len(wrong)}):")
    for text, expected, value in wrong:
        print(f"  {expected:9} {value:+.2f}  {text}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_sentiment.json").write_text(json.dumps(
        {"held_out": held_rows, "cross_validation": cv_rows, "bands": band_accuracy}, indent=2))


if __name__ == "__main__":
    main()
