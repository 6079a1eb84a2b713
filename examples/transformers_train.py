"""Hugging Face Transformers with the opsml callback: the training arguments and the model's
config as parameters, and every loss the Trainer logs at its step."""

import torch
from opsml import get_experiment_metrics
from opsml.integrations.transformers import OpsmlCallback
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

# A tiny BERT built from its config (nothing is downloaded) on a toy task: is the first token
# in the lower half of the vocabulary?
torch.manual_seed(0)
config = BertConfig(
    vocab_size=64,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=16,
)
model = BertForSequenceClassification(config)
tokens = torch.randint(0, 64, (320, 8))
examples = [{"input_ids": t, "labels": int(t[0] < 32)} for t in tokens]

args = TrainingArguments(
    output_dir="bert-example",
    max_steps=40,
    learning_rate=3e-3,
    per_device_train_batch_size=16,
    logging_steps=10,
    eval_strategy="steps",
    eval_steps=20,
    save_strategy="no",
    report_to=[],
    use_cpu=True,
    disable_tqdm=True,
)
callback = OpsmlCallback(space="transformers-example", name="tiny-bert")
trainer = Trainer(
    model,
    args,
    train_dataset=examples[:256],
    eval_dataset=examples[256:],
    callbacks=[callback],
)
trainer.train()

assert callback.experiment is not None
losses = get_experiment_metrics(callback.experiment.uid, names=["loss", "eval_loss"])
train_loss = [m.value for m in losses if m.name == "loss"]
eval_loss = [m.value for m in losses if m.name == "eval_loss"]
print(
    f"training loss from {train_loss[0]:.3f} to {train_loss[-1]:.3f}; eval loss {eval_loss[-1]:.3f}"
)
