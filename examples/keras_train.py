"""Keras with the opsml callback: the optimizer's settings and every epoch's losses, here on
Keras's PyTorch backend."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported; JAX or TF work too

import keras
import numpy as np
from opsml import get_experiment_metrics
from opsml.integrations.keras import OpsmlCallback

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
features = rng.normal(size=(512, 5)).astype("float32")
labels = (features[:, 0] - features[:, 1] > 0).astype("float32")

model = keras.Sequential(
    [
        keras.Input((5,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
)
callback = OpsmlCallback(space="keras-example", name="classifier")
model.fit(
    features, labels, epochs=5, batch_size=32, validation_split=0.2, verbose=0, callbacks=[callback]
)

assert callback.experiment is not None
accuracy = get_experiment_metrics(callback.experiment.uid, names=["epoch.val_accuracy"])
print(f"validation accuracy after {len(accuracy)} epochs: {accuracy[-1].value:.3f}")
