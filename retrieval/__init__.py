"""Catalogue ingestion, embeddings, the FAISS index, recall and reranking. Imports nothing from `chat`."""
