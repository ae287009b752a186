"""chatrec: a conversational recommender over a FAISS index, with a small LM in the loop."""

from chatrec.recommender import ChatRecommender, Recommendation, Reply

__all__ = ["ChatRecommender", "Recommendation", "Reply"]
__version__ = "0.1.0"
