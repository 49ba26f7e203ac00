"""distml: Spark MLlib-compatible machine learning, trained partition-parallel at numpy speed.

Every public class is importable from here as well as from its subpackage::

    from distml import LogisticRegression, StandardScaler, Summarizer

Each name imports its module on first use (``distml.lazy``): a Spark task that needs one
training program's functions does not import every estimator.
"""
__version__ = "0.1.0"

from distml import algorithms, pipeline  # noqa: E402 (both lazy: cheap)
from distml.lazy import lazy_namespace  # noqa: E402
from distml.pipeline import feature  # noqa: E402

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    "distml.algorithms": algorithms.__all__,
    "distml.pipeline": [n for n in pipeline.__all__ if n not in feature.__all__],
    "distml.pipeline.feature": feature.__all__,
    "distml.errors": ["CollectiveError", "DataError", "FitError", "MXNetUnavailableError",
                      "ParamError", "PersistenceError"],
    "distml.engine.resident": ["release"]})
