"""Public conversation corpora read into one dialogue shape (`dialogues`): ReDial and its IARD copies (`redial`).

Fine-tuning (`finetune/`) and the benchmarks (`evaluation/`) both read them from here.
"""
