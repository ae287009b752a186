"""chatrec: a conversational recommender over a FAISS index, with a small LM in the loop.

The faces (the Gradio app, the CLI) use what this package exports and nothing behind it.
"""

from chatrec.datasets import BUILTIN as CATALOGS
from chatrec.datasets import CatalogInfo, catalog_info
from chatrec.recommender import ChatRecommender, Recommendation, Reply

__all__ = [
    "CATALOGS",
    "CatalogInfo",
    "ChatRecommender",
    "Recommendation",
    "Reply",
    "catalog_info",
]
__version__ = "0.1.0"
