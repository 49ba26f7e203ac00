"""Issue 22, first step: every distml class with a pyspark.ml twin of the same name has the
twin's ``setX``/``getX`` accessors for each param both classes declare, and its ``setParams``
where the twin has one (keyword arguments only, as pyspark.ml's), and they work."""
import importlib
import inspect

import pytest

import distml

_MODULES = ("classification", "regression", "clustering", "feature", "recommendation",
            "evaluation", "tuning")


def _twins():
    spark_classes = {}
    for name in _MODULES:
        module = importlib.import_module(f"pyspark.ml.{name}")
        for cls_name, cls in vars(module).items():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                spark_classes[cls_name] = cls
    return [(name, getattr(distml, name), spark_classes[name]) for name in sorted(dir(distml))
            if inspect.isclass(getattr(distml, name)) and name in spark_classes]


def _declared_params(cls) -> set:
    return {name for name in dir(cls) if type(getattr(cls, name, None)).__name__ == "Param"}


def _accessors(ours, theirs):
    """The twin's accessors for params both declare (``setParams`` is not one)."""
    shared = _declared_params(ours) & _declared_params(theirs)
    for attr in sorted(dir(theirs)):
        if isinstance(inspect.getattr_static(theirs, attr), property):
            continue  # not the param's accessor (an ensemble model's getNumTrees is its size)
        if attr[:3] in ("set", "get") and len(attr) > 3 and attr != "setParams":
            param = attr[3].lower() + attr[4:]
            if param in shared:
                yield attr, param


@pytest.mark.parametrize("name, ours, theirs", _twins(), ids=lambda x: getattr(x, "__name__",
                                                                              str(x)))
def test_the_twin_s_accessors_exist_and_set_and_get(name, ours, theirs):
    accessors = list(_accessors(ours, theirs))
    missing = [attr for attr, _ in accessors if not hasattr(ours, attr)]
    assert not missing, f"{name} lacks {missing}"
    try:
        stage = ours()
    except TypeError:  # a model built from its fitted parts (CrossValidatorModel)
        return
    for attr, param in accessors:
        if attr.startswith("set") and stage.hasDefault(param):
            value = stage.getOrDefault(param)
            assert getattr(stage, attr)(value) is stage and stage.isSet(param), attr
        elif attr.startswith("get") and (stage.hasDefault(param) or stage.isSet(param)):
            got, want = getattr(stage, attr)(), stage.getOrDefault(param)
            assert got == want or (got != got and want != want), attr  # NaN is NaN


@pytest.mark.parametrize("name, ours, theirs",
                         [t for t in _twins() if hasattr(t[2], "setParams")],
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_set_params_takes_keywords_only_as_the_twin_s_does(name, ours, theirs):
    assert hasattr(ours, "setParams"), name
    try:
        stage = ours()
    except TypeError:  # a model built from its fitted parts
        return
    with pytest.raises(TypeError, match="forces keyword arguments"):
        stage.setParams("positional")
    shared = sorted(p for _, p in _accessors(ours, theirs) if stage.hasDefault(p))
    if shared:
        value = stage.getOrDefault(shared[0])
        assert stage.setParams(**{shared[0]: value}) is stage and stage.isSet(shared[0])
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        stage.setParams(noSuchParam=1)
