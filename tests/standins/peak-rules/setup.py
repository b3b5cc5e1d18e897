# Test fixture: a stand-in for PEAK-Rules (see ../README.md). Not the real library.
from setuptools import setup

setup(name='PEAK-Rules', version='0.5a1.dev-r2713',
      description='tgdeploy test stand-in for the PEAK-Rules generic-function API',
      packages=['peak', 'peak.rules'], namespace_packages=['peak'], zip_safe=False)
