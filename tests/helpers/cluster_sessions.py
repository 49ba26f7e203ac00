"""The multi-process tier's session (tests/cluster): one ``local-cluster[2,1,1024]``
application per module."""
from contextlib import contextmanager


@contextmanager
def cluster_session(app_name: str, **conf: str):
    """A local-cluster session with ``conf``, stopped at the end without leaving its confs to
    the module after it: pyspark's session builder also sets them as Java system properties,
    which the next SparkContext in this JVM would load as its own."""
    from distml.frames import local_session
    session = local_session("local-cluster[2,1,1024]", app_name=app_name,
                            **{"spark.driver.memory": "1g", **conf})
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        jvm = session.sparkContext._jvm
        session.stop()
        for key in conf:
            jvm.System.clearProperty(key)
