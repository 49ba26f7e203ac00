from distml.pipeline.stat.summarizer import Summarizer, SummaryResult

__all__ = ["Summarizer", "SummaryResult"]
