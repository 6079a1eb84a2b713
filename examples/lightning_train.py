"""PyTorch Lightning with the opsml logger: the module's hyperparameters and every logged
metric at its step, in a run that ends with the training."""

import torch
from lightning.pytorch import LightningModule, Trainer
from opsml import get_experiment_metrics
from opsml.integrations.lightning import OpsmlLogger
from torch.utils.data import DataLoader, TensorDataset


class Regressor(LightningModule):
    def __init__(self, hidden: int = 16, lr: float = 0.01) -> None:
        super().__init__()
        self.save_hyperparameters()  # what the logger records as parameters
        self.net = torch.nn.Sequential(
            torch.nn.Linear(5, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def loss(self, batch: list[torch.Tensor]) -> torch.Tensor:
        features, target = batch
        return torch.nn.functional.mse_loss(self.net(features).squeeze(-1), target)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.loss(batch)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        self.log("val_loss", self.loss(batch))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


torch.manual_seed(0)
features = torch.randn(512, 5)
target = features @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0])
train = DataLoader(TensorDataset(features[:384], target[:384]), batch_size=32, shuffle=True)
valid = DataLoader(TensorDataset(features[384:], target[384:]), batch_size=128)

logger = OpsmlLogger(space="lightning-example", name="regressor")
trainer = Trainer(
    max_epochs=5,
    accelerator="cpu",
    logger=logger,
    log_every_n_steps=4,
    enable_checkpointing=False,
    enable_progress_bar=False,
    enable_model_summary=False,
)
trainer.fit(Regressor(), train, valid)

losses = get_experiment_metrics(str(logger.version), names=["val_loss"])
print(
    f"validation loss from {losses[0].value:.3f} to {losses[-1].value:.3f} in {len(losses)} epochs"
)
