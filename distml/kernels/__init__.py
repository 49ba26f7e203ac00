"""Pure array functions: no Spark, no engines, no params objects. Dense ndarray or CSR in."""
