"""The store: where passages, vectors and the BM25 index live, and how they are saved."""
