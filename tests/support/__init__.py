"""What tests share that is not a fixture: record builders, config factories, loopback servers, the browser driver and
launch helpers. Fixtures stay in conftest.py files (which call these); tests import from here, never from a conftest."""
