"""A fit's stages bound their Arrow batches by rows in place of Spark's per-row byte check, and
the session's confs are put back as the user left them (``frames.arrow_batches``)."""
import threading

import pytest

from distml.frames.arrow_batches import (MAX_BYTES, MAX_RECORDS, NO_BYTE_LIMIT, parse_bytes,
                                         row_bounded_batches)

DEFAULTS = {MAX_BYTES: "67108864b", MAX_RECORDS: "10000"}  # Spark 4's


class _Conf:
    """A session's runtime conf as pyspark's RuntimeConfig answers: ``get(key, None)`` is the
    value the user set, ``get(key)`` the value in force."""

    def __init__(self, fail_on_set: bool = False, **values):
        self.values, self.fail_on_set, self.sets = dict(values), fail_on_set, []

    def get(self, key, *default):
        if default:
            return self.values.get(key, default[0])
        return self.values.get(key, DEFAULTS[key])

    def set(self, key, value):
        if self.fail_on_set:
            raise RuntimeError("this session takes no conf")
        self.sets.append((key, value))
        self.values[key] = value

    def unset(self, key):
        self.values.pop(key, None)


class _Session:
    def __init__(self, **values):
        self.conf = _Conf(**values)


def test_the_byte_limit_becomes_a_row_count_and_the_user_values_come_back():
    spark = _Session(**{MAX_BYTES: "1m"})  # rows-per-batch left at Spark's default
    with row_bounded_batches(spark, 424):
        assert spark.conf.get(MAX_BYTES) == str(NO_BYTE_LIMIT)
        assert spark.conf.get(MAX_RECORDS) == str(2 ** 20 // 424)  # 2473 < 10000
    assert spark.conf.values == {MAX_BYTES: "1m"}  # the unset one unset again


def test_the_users_row_limit_stays_when_it_is_the_smaller():
    spark = _Session(**{MAX_RECORDS: "500"})
    with row_bounded_batches(spark, 424):
        assert spark.conf.get(MAX_RECORDS) == "500"
        assert spark.conf.get(MAX_BYTES) == str(NO_BYTE_LIMIT)
    assert spark.conf.values == {MAX_RECORDS: "500"}


def test_no_row_limit_and_rows_wider_than_the_byte_limit():
    spark = _Session(**{MAX_RECORDS: "0", MAX_BYTES: "64m"})  # 0: Spark's "no row limit"
    with row_bounded_batches(spark, 80_000_016):  # a row of 10M doubles, wider than 64 MB
        assert spark.conf.get(MAX_RECORDS) == "1"
    with row_bounded_batches(spark, 1000):
        assert spark.conf.get(MAX_RECORDS) == str(64 * 2 ** 20 // 1000)
    assert spark.conf.values == {MAX_RECORDS: "0", MAX_BYTES: "64m"}


def test_overlapping_fits_keep_the_smallest_count_and_restore_at_the_last_exit():
    spark = _Session()
    outer = row_bounded_batches(spark, 4_016)  # 64 MB / 4016 = 16710: the 10000 rows stay
    outer.__enter__()
    assert spark.conf.get(MAX_RECORDS) == "10000"
    with row_bounded_batches(spark, 80_016):  # 64 MB / 80016 = 838 rows
        assert spark.conf.get(MAX_RECORDS) == "838"
    assert spark.conf.get(MAX_BYTES) == str(NO_BYTE_LIMIT)  # the outer fit still runs
    assert spark.conf.get(MAX_RECORDS) == "838"
    outer.__exit__(None, None, None)
    assert spark.conf.values == {}


def test_nothing_changes_without_a_width_or_with_the_byte_limit_off():
    spark = _Session()
    with row_bounded_batches(spark, None):  # sparse rows: no width known ahead
        assert spark.conf.values == {}
    with row_bounded_batches(None, 424):  # a pandas fit: no session
        pass
    off = _Session(**{MAX_BYTES: str(NO_BYTE_LIMIT)})
    with row_bounded_batches(off, 424):
        assert off.conf.sets == []
    assert off.conf.values == {MAX_BYTES: str(NO_BYTE_LIMIT)}


def test_a_session_that_refuses_the_confs_fits_as_it_is():
    spark = _Session(**{MAX_BYTES: "1m"})
    spark.conf.fail_on_set = True
    with row_bounded_batches(spark, 424):
        assert spark.conf.values == {MAX_BYTES: "1m"}
    spark.conf.fail_on_set = False
    with row_bounded_batches(spark, 424):  # nothing was left held by the refused attempt
        assert spark.conf.get(MAX_BYTES) == str(NO_BYTE_LIMIT)
    assert spark.conf.values == {MAX_BYTES: "1m"}


def test_the_confs_are_restored_when_the_fit_fails():
    spark = _Session()
    with pytest.raises(ValueError):
        with row_bounded_batches(spark, 424):
            raise ValueError("the fit failed")
    assert spark.conf.values == {}


def test_fits_on_many_threads_leave_the_session_as_it_was():
    spark = _Session(**{MAX_BYTES: "32m"})
    start, wrong = threading.Barrier(8), []

    def fit(row_bytes):
        start.wait()
        for _ in range(200):
            with row_bounded_batches(spark, row_bytes):
                seen = (spark.conf.get(MAX_BYTES), int(spark.conf.get(MAX_RECORDS)))
                if seen[0] != str(NO_BYTE_LIMIT) or seen[1] > 32 * 2 ** 20 // row_bytes:
                    wrong.append((row_bytes, seen))

    threads = [threading.Thread(target=fit, args=(400 * (i + 1) ** 2,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert spark.conf.values == {MAX_BYTES: "32m"}


@pytest.mark.parametrize("text, value", [("67108864b", 2 ** 26), ("64m", 2 ** 26),
                                         ("64MB", 2 ** 26), ("1g", 2 ** 30), ("100", 100),
                                         (" 2k ", 2048)])
def test_spark_byte_sizes(text, value):
    assert parse_bytes(text) == value


def test_a_byte_size_spark_would_not_take_is_refused():
    with pytest.raises(ValueError, match="12x"):
        parse_bytes("12x")
