from pathlib import Path

#: The project's root (where pyproject.toml is), whatever folder a test sits in.
ROOT = Path(__file__).resolve().parents[2]

#: The pytest-xdist group of the demo page's examples and of the tests that run the hybrid
#: demo: one worker runs them in order, so the demo index is built once in its session cache.
DEMO_INDEX_GROUP = "demo-index"
