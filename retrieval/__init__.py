"""Catalogue ingestion, embeddings, the FAISS index, recall, and (`retrieval.ranking`) candidate sources and rankers.

Imports nothing from `chat`. `retrieval.item_search` is the one search path over both layers.
Commands: `python -m retrieval.build_index` (catalogue file -> index folder),
`python -m retrieval.search` (query an index folder as the chat engine does) and
`python -m retrieval.train_sequential` (the sequential model from interactions).
"""
