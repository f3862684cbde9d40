"""Fine-tuning: SFT data from dialogues, catalogues and logs, LoRA training, adapter metadata (being built)."""
