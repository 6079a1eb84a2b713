"""scikit-learn with autolog: every fit is an experiment, with its parameters, fit time and
training score."""

from opsml import get_experiment_parameters, search_experiments
from opsml.integrations.sklearn import autolog
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

features, labels = make_classification(n_samples=300, n_features=8, random_state=0)
autolog(space="sklearn-example")
GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0, 10.0]}, cv=3).fit(features, labels)
autolog(disable=True)

[run] = search_experiments(space="sklearn-example")
print(f"{run.name}: {len(get_experiment_parameters(run.uid))} parameters logged")
