"""Ready-made blueprints for popular OAuth providers.

Each module ``flask_dance.contrib.<name>`` has a ``make_<name>_blueprint``
factory and a ``<name>`` proxy to the provider session of the current request.
"""
