"""Training: datagen (rendered scenes with labels) and the VLM training loop."""
