"""Retrieval: questions in, ranked hits with quotes out."""
