"""Train several scikit-learn models in parallel, pick the best, keep everything.

    python examples/model_selection.py run
    python examples/model_selection.py run --test-size 0.3 --seed 7
    python examples/model_selection.py --datastore s3 --datastore-root s3://BUCKET/stepwell run
    python examples/model_selection.py deploy && stepwell scheduler   # every night at 02:00 UTC

Every value assigned to ``self`` is versioned: the dataset split, each fitted
model, the metrics table and the winner are artifacts of the run. The
``choose`` step's card charts the leaderboard (``python examples/model_selection.py
card view RUN/choose/TASK --id leaderboard``, or the task page of ``stepwell ui``).
"""

from stepwell import FlowSpec, JSONType, Parameter, card, current, schedule, step

DEFAULT_MODELS = [
    {"name": "logistic_regression", "kind": "logistic", "C": 1.0},
    {"name": "random_forest", "kind": "forest", "n_estimators": 200, "max_depth": 8},
    {"name": "gradient_boosting", "kind": "boosting", "learning_rate": 0.1},
    {"name": "k_nearest_neighbors", "kind": "knn", "n_neighbors": 7},
]


def make_model(spec, seed):
    """A scikit-learn estimator from one entry of the ``models`` parameter."""
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kind = spec["kind"]
    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=spec["C"], max_iter=2000))
    if kind == "forest":
        return RandomForestClassifier(
            n_estimators=spec["n_estimators"], max_depth=spec["max_depth"], random_state=seed
        )
    if kind == "boosting":
        return GradientBoostingClassifier(learning_rate=spec["learning_rate"], random_state=seed)
    if kind == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(spec["n_neighbors"]))
    raise ValueError(f"unknown model kind {kind!r}; use logistic, forest, boosting or knn")


@schedule(cron="0 2 * * *")  # acts once deployed: `deploy`, then `stepwell scheduler`
class ModelSelectionFlow(FlowSpec):
    """Compare classifiers on the breast-cancer dataset shipped with scikit-learn."""

    test_size = Parameter("test-size", default=0.25, help="fraction of rows held out")
    seed = Parameter("seed", default=42, help="random seed for the split and the models")
    models = Parameter("models", default=DEFAULT_MODELS, type=JSONType, help="models to try")

    @step
    def start(self):
        """Load the data and split it once, for every model to share."""
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import train_test_split

        data = load_breast_cancer(as_frame=True)
        self.feature_names = list(data.feature_names)
        self.X_train, self.X_test, self.y_train, self.y_test = train_test_split(
            data.data.to_numpy(),
            data.target.to_numpy(),
            test_size=self.test_size,
            random_state=self.seed,
            stratify=data.target.to_numpy(),
        )
        print(f"{len(self.X_train)} training rows, {len(self.X_test)} test rows")
        self.next(self.train, foreach="models")

    @step
    def train(self):
        """Fit one model (each runs as its own task, in parallel)."""
        import time

        from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

        self.spec = self.input
        started = time.perf_counter()
        self.model = make_model(self.spec, self.seed).fit(self.X_train, self.y_train)
        self.fit_seconds = time.perf_counter() - started
        predicted = self.model.predict(self.X_test)
        scores = self.model.predict_proba(self.X_test)[:, 1]
        self.metrics = {
            "model": self.spec["name"],
            "accuracy": accuracy_score(self.y_test, predicted),
            "f1": f1_score(self.y_test, predicted),
            "roc_auc": roc_auc_score(self.y_test, scores),
            "fit_seconds": self.fit_seconds,
        }
        print(f"{self.spec['name']}: accuracy {self.metrics['accuracy']:.3f}")
        self.next(self.choose)

    @card(type="blank", id="leaderboard")
    @step
    def choose(self, inputs):
        """Rank the models by ROC AUC and keep the best one; chart the ranking on a card."""
        import pandas as pd

        self.leaderboard = (
            pd.DataFrame([inp.metrics for inp in inputs])
            .sort_values("roc_auc", ascending=False)
            .reset_index(drop=True)
        )
        best = max(inputs, key=lambda inp: inp.metrics["roc_auc"])
        self.best_model = best.model
        self.best_name = best.spec["name"]
        self.best_metrics = best.metrics
        self.show_leaderboard()
        self.next(self.end)

    def show_leaderboard(self):
        """The card: the winner, a bar chart of every model's scores, and the table."""
        from stepwell.cards import Markdown, Table, ValueBox, VegaChart

        scores = self.leaderboard.melt(
            id_vars="model", value_vars=["accuracy", "f1", "roc_auc"], var_name="metric"
        )
        low = max(0.0, round(float(scores["value"].min()) - 0.02, 2))  # show the differences
        chart = VegaChart({
            "title": "Held-out scores by model",
            "data": {"values": scores.to_dict("records")},
            "mark": {"type": "bar", "clip": True},
            "encoding": {
                "y": {"field": "model", "type": "nominal", "sort": "-x", "title": None},
                "x": {"field": "value", "type": "quantitative", "title": "score",
                      "scale": {"domain": [low, 1.0]}},
                "color": {"field": "metric", "type": "nominal"},
                "yOffset": {"field": "metric"},
            },
            "width": 420,
        })  # fmt: skip
        current.card["leaderboard"].extend([
            Markdown("# Model selection"),
            ValueBox("Best model", self.best_name),
            ValueBox("ROC AUC", round(self.best_metrics["roc_auc"], 3)),
            chart,
            Table.from_dataframe(self.leaderboard.round(3)),
        ])  # fmt: skip

    @step
    def end(self):
        """Report the winner."""
        print(self.leaderboard.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"Best model: {self.best_name} (ROC AUC {self.best_metrics['roc_auc']:.3f})")


if __name__ == "__main__":
    ModelSelectionFlow()
