# Everything lives in setup.cfg and pyproject.toml; this file lets old pips install us.
from setuptools import setup

setup()
