"""chatrec: a conversational recommender over a FAISS index, with a small LM in the loop.

The faces (the Gradio app, the CLI) use what this package exports and nothing behind it:
the facade ``ChatRecommender``, its ``Reply``, the catalogs' cards, ``GUEST_PREFIX`` (a
guest's user id starts with it), and the errors a person can fix (``USER_ERRORS``: each says
what to do in one line).
"""

from chatrec.catalog import CatalogError
from chatrec.datasets import BUILTIN as CATALOGS
from chatrec.datasets import CatalogInfo, UnknownCatalogError, catalog_info
from chatrec.datasets.movielens import DataMissingError
from chatrec.load import in_passing_thread, turn_concurrency
from chatrec.models import MissingWeightsError
from chatrec.qa import PolicyError
from chatrec.recommender import ChatRecommender, Recommendation, Reply
from chatrec.sessions import GUEST_PREFIX
from chatrec.store import Store, StoreError, StoreWriteError

USER_ERRORS: tuple[type[Exception], ...] = (
    UnknownCatalogError,
    CatalogError,
    DataMissingError,
    MissingWeightsError,
    FileNotFoundError,
    StoreError,
    PolicyError,
)

__all__ = [
    "CATALOGS",
    "GUEST_PREFIX",
    "USER_ERRORS",
    "CatalogInfo",
    "ChatRecommender",
    "Recommendation",
    "Reply",
    "Store",
    "StoreError",
    "StoreWriteError",
    "catalog_info",
    "in_passing_thread",
    "turn_concurrency",
]
__version__ = "0.1.0"
