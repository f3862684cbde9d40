"""Catalogue ingestion, embeddings, the FAISS index, recall, reranking and the collaborative signal. Imports nothing from `chat`.

Commands: `python -m retrieval.build_index` (catalogue file -> index folder) and
`python -m retrieval.search` (query an index folder as the chat engine does).
"""
