# Test fixture: a stand-in for RuleDispatch (see ../README.md). Not the real library.
from setuptools import setup

setup(name='RuleDispatch', version='0.5a1.dev-r2713',
      description='tgdeploy test stand-in for the RuleDispatch generic-function API',
      packages=['dispatch'], install_requires=['DecoratorTools >= 1.4'], zip_safe=False)
